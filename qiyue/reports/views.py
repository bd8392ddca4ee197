import datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from qiyue.contracts.selectors import LIVE_STATUSES

from .charts import dashboard_charts
from .selectors import dashboard_summary


def _list_url(**params) -> str:
    """The contracts list filtered as a dashboard queue is: its "and N more" opens the whole queue."""
    return reverse("contracts:list") + "?" + urlencode(params, doseq=True)


@login_required
@require_GET
def dashboard(request):
    summary = dashboard_summary(user=request.user)
    today = summary["today"]
    me = request.user.pk
    summary["queue_urls"] = {
        "my_drafts": _list_url(owner=me, status="draft"),
        "my_expiring": _list_url(owner=me, status=list(LIVE_STATUSES), expiry_date_after=today.isoformat(),
                                 expiry_date_before=(today + datetime.timedelta(days=30)).isoformat(),
                                 ordering="expiry_date"),
    }
    summary.update(dashboard_charts(user=request.user, today=today, by_status=summary["by_status"]))
    return render(request, "reports/dashboard.html", {"nav": "dashboard", **summary})
