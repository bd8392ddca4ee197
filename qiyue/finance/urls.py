from django.urls import path

from . import invoice_pages, receivable_pages, views

app_name = "finance"

urlpatterns = [
    path("contracts/<int:pk>/payment-plan/", views.plan_save, name="plan_save"),
    path("contracts/<int:pk>/payments/", views.payment_record, name="payment_record"),
    path("contracts/<int:pk>/payments/<int:payment_pk>/reverse/", views.payment_reverse, name="payment_reverse"),
    path("contracts/<int:pk>/obligations/", views.obligation_create, name="obligation_create"),
    path("contracts/<int:pk>/obligations/<int:obligation_pk>/", views.obligation_update, name="obligation_update"),
    path("contracts/<int:pk>/obligations/<int:obligation_pk>/done/", views.obligation_complete,
         name="obligation_complete"),
    path("contracts/<int:pk>/obligations/<int:obligation_pk>/waive/", views.obligation_waive, name="obligation_waive"),
    path("contracts/<int:pk>/obligations/<int:obligation_pk>/reopen/", views.obligation_reopen,
         name="obligation_reopen"),
    path("contracts/<int:pk>/invoices/", views.invoice_create, name="invoice_create"),
    path("contracts/<int:pk>/invoices/<int:invoice_pk>/issue/", views.invoice_issue, name="invoice_issue"),
    path("contracts/<int:pk>/invoices/<int:invoice_pk>/withdraw/", views.invoice_withdraw, name="invoice_withdraw"),
    path("contracts/<int:pk>/invoices/<int:invoice_pk>/void/", views.invoice_void, name="invoice_void"),
    path("contracts/<int:pk>/invoices/<int:invoice_pk>/red-letter/", views.invoice_red_letter,
         name="invoice_red_letter"),
    path("contracts/<int:pk>/issues/", views.issue_create, name="issue_create"),
    path("contracts/<int:pk>/issues/<int:issue_pk>/", views.issue_update, name="issue_update"),
    path("contracts/<int:pk>/issues/<int:issue_pk>/resolve/", views.issue_resolve, name="issue_resolve"),
    path("contracts/<int:pk>/issues/<int:issue_pk>/reopen/", views.issue_reopen, name="issue_reopen"),
    path("receivables/", receivable_pages.receivable_list, name="receivables"),
    path("receivables/export/", receivable_pages.receivable_export, name="receivables_export"),
    path("receivables/pay/", receivable_pages.receivable_pay, name="receivables_pay"),
    path("invoices/", invoice_pages.invoice_list, name="invoices"),
    path("invoices/import/", invoice_pages.invoice_import, name="invoice_import"),
]
