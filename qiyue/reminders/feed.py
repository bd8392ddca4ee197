"""A user's calendar feed (iCalendar, RFC 5545, written with the `icalendar` library): their upcoming
dates as events at 09:00–09:30 in the feed's time zone (with its VTIMEZONE), each linked to its
contract. An event's UID names its object, not its date, so a calendar moves the event when the date
changes rather than adding another."""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from . import dates, selectors
from .models import CalendarFeed, Subject

# From a month back (what is overdue) to a year ahead.
PAST = datetime.timedelta(days=31)
AHEAD = datetime.timedelta(days=366)
AT = datetime.time(9, 0)
LENGTH = datetime.timedelta(minutes=30)
MAX_EVENTS = 20_000


def time_zone_of(feed: CalendarFeed) -> str:
    return feed.time_zone or settings.QIYUE_CALENDAR_TIME_ZONE


def summary(entry: dates.DateEntry) -> str:
    """The event's title in the active language."""
    text = {
        Subject.CONTRACT_EXPIRY: _("Expires: %(number)s %(title)s"),
        Subject.NOTICE_DEADLINE: _("Notice deadline: %(number)s %(title)s"),
        Subject.INSTALLMENT_DUE: _("Payment due: %(number)s installment %(position)s, %(amount)s"),
        Subject.OBLIGATION_DUE: _("Obligation due: %(number)s %(description)s"),
    }[entry.subject]
    return text % {"number": entry.number, "title": entry.title, **entry.extra}


def build(feed: CalendarFeed, *, today: datetime.date | None = None) -> bytes:
    user = feed.user
    zone_name = time_zone_of(feed)
    zone = ZoneInfo(zone_name)
    today = today or timezone.localdate()
    entries = selectors.user_dates(user, today - PAST, today + AHEAD, limit=MAX_EVENTS)
    base = settings.QIYUE_BASE_URL.rstrip("/")
    stamp = timezone.now().astimezone(datetime.UTC)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        calendar = Calendar()
        calendar.add("prodid", "-//Qiyue//Contract dates//ZH")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", _("Qiyue: %(name)s's contract dates") % {"name": str(user)})
        calendar.add("x-wr-timezone", zone_name)
        for entry in entries:
            event = Event()
            event.add("uid", f"{entry.subject}-{entry.object_type}-{entry.object_id}@qiyue")
            event.add("dtstamp", stamp)
            start = datetime.datetime.combine(entry.date, AT, tzinfo=zone)
            event.add("dtstart", start)
            event.add("dtend", start + LENGTH)
            event.add("summary", summary(entry))
            event.add("url", base + entry.url)
            event.add("description", f"{entry.number} {entry.title}\n{base}{entry.url}")
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
        calendar.add_missing_timezones()
    return calendar.to_ical()
