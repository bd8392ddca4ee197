from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .selectors import dashboard_summary


@login_required
@require_GET
def dashboard(request):
    summary = dashboard_summary(user=request.user)
    return render(request, "reports/dashboard.html", {"nav": "dashboard", **summary})
