"""The reminders pages: the calendar (a month grid and an agenda) of a user's dates, the dashboard's
"due soon" panel (loaded by HTMX), the user's calendar feed (its settings page and the iCalendar file
at its secret address), and the administrators' rules."""

import calendar as month_calendar
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from qiyue.contracts.models import ContractType
from qiyue.core.errors import ApplicationError, service_errors
from qiyue.core.htmx import form_error

from . import feed as ics
from . import policies, selectors, services
from .forms import FeedForm, RuleForm, parse_month, rule_initial
from .models import CalendarFeed, ReminderRule, Subject, TypeSchedule

# At most this many entries on one calendar page (a month of a large team's dates fits).
MAX_ENTRIES = 3000
# Entries shown in a day of the month grid before "N more".
PER_DAY = 3
DUE_SOON_DAYS = 14
OVERDUE_DAYS = 60
DUE_SOON_ROWS = 8
# The weekdays' one-letter names for a phone's month grid, Monday first.
NARROW_WEEKDAYS = (pgettext_lazy("narrow weekday", "M"), pgettext_lazy("narrow weekday", "Tu"),
                   pgettext_lazy("narrow weekday", "W"), pgettext_lazy("narrow weekday", "Th"),
                   pgettext_lazy("narrow weekday", "F"), pgettext_lazy("narrow weekday", "Sa"),
                   pgettext_lazy("narrow weekday", "Su"))


def _id(value) -> int | None:
    """An id from the query string; None when there is none or it is no id."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    return int(value)


@login_required
@require_GET
def calendar(request):
    """A month of dates: a grid (Monday first) or an agenda list; whose dates: mine by default."""
    today = timezone.localdate()
    first = parse_month(request.GET.get("month"), today)
    view = request.GET.get("view") or "month"
    owners, teams = selectors.choices(request.user)
    try:
        if first is None or view not in ("month", "agenda"):
            raise selectors.BadFilter
        whose = selectors.whose(request.GET.get("whose") or "mine", _id(request.GET.get("owner")),
                                _id(request.GET.get("team")), owners, teams)
    except selectors.BadFilter:
        return HttpResponseBadRequest(_("The calendar cannot show that: choose a month (YYYY-MM), a view and whose "
                                        "dates from the page."))
    last = first.replace(day=month_calendar.monthrange(first.year, first.month)[1])
    grid_start = first - datetime.timedelta(days=first.weekday())
    grid_end = last + datetime.timedelta(days=6 - last.weekday())
    start, end = (grid_start, grid_end) if view == "month" else (first, last)
    entries = selectors.decorate(selectors.user_dates(request.user, start, end, whose=whose, limit=MAX_ENTRIES + 1))
    truncated = len(entries) > MAX_ENTRIES
    entries = entries[:MAX_ENTRIES]
    by_day: dict[datetime.date, list] = {}
    for entry in entries:
        by_day.setdefault(entry.date, []).append(entry)
    params = {k: v for k, v in request.GET.items() if k in ("whose", "owner", "team", "view")}
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = last + datetime.timedelta(days=1)
    weeks = []
    day = grid_start
    while day <= grid_end:
        week = []
        for _i in range(7):
            items = by_day.get(day, [])
            week.append({"date": day, "in_month": day.month == first.month, "today": day == today,
                         "entries": items[:PER_DAY], "more": max(len(items) - PER_DAY, 0), "count": len(items)})
            day += datetime.timedelta(days=1)
        weeks.append(week)
    agenda = [(d, items) for d, items in sorted(by_day.items()) if first <= d <= last]
    context = {
        "nav": "calendar", "first": first, "today": today, "view": view, "weeks": weeks, "agenda": agenda,
        "truncated": truncated, "max_entries": MAX_ENTRIES,
        "weekdays": list(zip([datetime.date(2024, 1, d) for d in range(1, 8)], NARROW_WEEKDAYS, strict=True)),
        "previous_url": "?" + urlencode({**params, "month": previous.strftime("%Y-%m")}),
        "next_url": "?" + urlencode({**params, "month": following.strftime("%Y-%m")}),
        "today_url": "?" + urlencode(params),
        "month_param": first.strftime("%Y-%m"),
        "month_url": "?" + urlencode({**params, "month": first.strftime("%Y-%m"), "view": "month"}),
        "agenda_url": "?" + urlencode({**params, "month": first.strftime("%Y-%m"), "view": "agenda"}),
        "whose": request.GET.get("whose") or "mine", "owners": owners, "teams": teams,
        "owner": request.GET.get("owner", ""), "team": request.GET.get("team", ""),
    }
    return render(request, "reminders/calendar.html", context)


@login_required
@require_GET
def due_soon(request):
    """The dashboard's panel: the user's own overdue dates and those of the next two weeks."""
    today = timezone.localdate()
    entries = selectors.decorate(selectors.user_dates(request.user, today - datetime.timedelta(days=OVERDUE_DAYS),
                                             today + datetime.timedelta(days=DUE_SOON_DAYS), limit=500))
    # Overdue: money and obligations still open (a passed expiry or notice deadline is no longer to do).
    overdue = [e for e in entries if e.date < today and e.subject in (Subject.INSTALLMENT_DUE, Subject.OBLIGATION_DUE)]
    coming = [e for e in entries if e.date >= today]
    for entry in entries:
        entry.days = (entry.date - today).days
        entry.late = max(-entry.days, 0)
    # The most recently overdue first (half the rows at most when dates are coming), then what comes next.
    late = sorted(overdue, key=lambda e: e.date, reverse=True)[:DUE_SOON_ROWS - min(len(coming), DUE_SOON_ROWS // 2)]
    rows = late + coming[:DUE_SOON_ROWS - len(late)]
    return render(request, "reminders/_due_soon.html", {
        "rows": rows, "overdue_count": len(overdue), "coming_count": len(coming), "days": DUE_SOON_DAYS,
        "more": len(overdue) + len(coming) - len(rows), "today": today})


@login_required
@require_http_methods(["GET", "POST"])
def feed_settings(request):
    """The user's calendar feed: its secret address to subscribe to, its time zone, and a reset."""
    feed = selectors.feed_of(request.user)
    form = FeedForm(request.POST or None, initial={"time_zone": feed.time_zone if feed else "",
                                                   "subjects": list(ics.feed_subjects(feed)) if feed else []})
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action in ("create", "reset"):
                services.feed_reset(actor=request.user)
                messages.success(request, _("Your calendar feed has a new address. Subscribe to it again in "
                                            "your calendar; the old address no longer works.")
                                 if action == "reset" and feed else _("Your calendar feed is ready."))
                return redirect("reminders:feed")
            if action == "settings" and form.is_valid():
                services.feed_update(actor=request.user, time_zone=form.cleaned_data["time_zone"],
                                     subjects=form.cleaned_data["subjects"])
                messages.success(request, _("Your calendar feed's settings are saved."))
                return redirect("reminders:feed")
            if action != "settings":
                return HttpResponseBadRequest(_("Unknown action."))
            status = 400
        except ApplicationError as exc:
            status = form_error(form, exc)
    return render(request, "reminders/feed.html", {
        "nav": "calendar", "feed": feed, "form": form, "url": ics.address(request, feed) if feed else "",
        "time_zone": ics.time_zone_of(feed) if feed else ""}, status=status)


@require_GET
def feed_ics(request, token):
    """The feed itself, for calendar apps: no session, the secret in the address is the key."""
    if len(token) > 64:
        raise Http404
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        raise Http404
    body = ics.build(feed)
    CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="qiyue.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def _admin(request):
    if not policies.can_manage_rules(request.user):
        raise PermissionDenied


@login_required
@require_GET
def rule_list(request):
    _admin(request)
    schedules = {s.contract_type_id: s for s in TypeSchedule.objects.all()}
    types = [{"type": t, "schedule": schedules.get(t.pk) or TypeSchedule(contract_type=t)}
             for t in ContractType.objects.order_by("name_zh")]
    return render(request, "reminders/rules.html", {"nav": "manage", "section": "reminders",
                                                    "rules": selectors.rules(), "types": types})


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk=None):
    _admin(request)
    rule = get_object_or_404(ReminderRule, pk=pk) if pk else None
    form = RuleForm(request.POST or None, initial=rule_initial(rule) if rule else {
        "to_responsible": True, "active": True, "when": "before", "days": 7, "position": 100})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                rule = services.rule_save(actor=request.user, rule=rule, data=form.data_for_service(),
                                          expected_version=form.cleaned_data.get("version"))
            except service_errors() as exc:
                status = form_error(form, exc)
            else:
                messages.success(request, _("The reminder rule “%(name)s” was saved.") % {"name": rule})
                return redirect("reminders:rules")
    return render(request, "reminders/rule_form.html", {"nav": "manage", "section": "reminders", "rule": rule,
                                                        "form": form}, status=status)


@login_required
@require_http_methods(["POST"])
def type_schedules(request):
    """Save the automatic status of every contract type at once (two checkboxes per type)."""
    _admin(request)
    expire = set(request.POST.getlist("auto_expire"))
    renew = set(request.POST.getlist("auto_renew"))
    types = list(ContractType.objects.order_by("pk"))
    months = {}
    for contract_type in types:
        raw = (request.POST.get(f"review_{contract_type.pk}") or "").strip()
        if not raw:
            months[contract_type.pk] = None
        elif raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= 120:
            months[contract_type.pk] = int(raw)
        else:
            return HttpResponseBadRequest(_("“%(type)s”: enter a number of months from 1 to 120 between reviews, "
                                            "or leave it empty.") % {"type": contract_type})
    with transaction.atomic():
        for contract_type in types:
            services.type_schedule_save(actor=request.user, contract_type=contract_type,
                                        auto_expire=str(contract_type.pk) in expire,
                                        auto_renew=str(contract_type.pk) in renew,
                                        review_every_months=months[contract_type.pk])
    messages.success(request, _("The automatic status of the contract types is saved."))
    return redirect(reverse("reminders:rules") + "#types")
