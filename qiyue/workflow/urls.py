from django.urls import path

from . import admin_views, pdf, views

app_name = "workflow"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("delegation/", views.delegation, name="delegation"),
    path("delegation/<int:pk>/end/", views.delegation_end, name="delegation_end"),
    path("contracts/<int:pk>/prereview/", views.prereview_run, name="prereview_run"),
    path("contracts/<int:pk>/approval/decide/", views.decide, name="decide"),
    path("contracts/<int:pk>/approval/transfer/", views.transfer, name="transfer"),
    path("contracts/<int:pk>/approval/add-approver/", views.add_approver, name="add_approver"),
    path("contracts/<int:pk>/approval/withdraw/", views.withdraw, name="withdraw"),
    path("contracts/<int:pk>/approval/urge/", views.urge, name="urge"),
    path("contracts/<int:pk>/approval/reopen/", views.reopen, name="reopen"),
    path("contracts/<int:pk>/approval/comment/", views.comment, name="comment"),
    path("contracts/<int:pk>/approval/form.pdf", pdf.approval_form, name="approval_form"),
    path("flows/", admin_views.flow_list, name="flows"),
    path("flows/new/", admin_views.flow_edit, name="flow_create"),
    path("flows/<int:pk>/", admin_views.flow_edit, name="flow"),
    path("rates/", admin_views.rates, name="rates"),
    path("rules/", admin_views.rule_list, name="rules"),
    path("rules/new/", admin_views.rule_edit, name="rule_create"),
    path("rules/<int:pk>/", admin_views.rule_edit, name="rule"),
]
