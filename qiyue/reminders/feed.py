"""A user's calendar feed (iCalendar, RFC 5545): their dates as events at 09:00–09:30 in the feed's time
zone, each linked to its contract. An event's UID names its object, not its date, so a calendar moves
the event when the date changes rather than adding another.

The `icalendar` library writes the calendar, its VTIMEZONE (from the IANA database) and escapes every
text; the events are assembled from those escaped values as content lines here, folded at 75 octets.
The library's own per-event serialisation costs about half a millisecond an event, 2.5 s for a feed of
5,000 dates: too slow for a file calendar apps fetch every few hours for every user. A test checks that
the library parses back exactly the events it would have written itself."""

import datetime
import functools
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Timezone, vText

from . import dates, selectors
from .models import CalendarFeed
from .texts import summaries, summary

# From a month back (what is overdue) to a year ahead.
PAST = datetime.timedelta(days=31)
AHEAD = datetime.timedelta(days=366)
AT = datetime.time(9, 0)
LENGTH = datetime.timedelta(minutes=30)
MAX_EVENTS = 20_000


@functools.cache
def vtimezone(zone_name: str) -> Timezone:
    """The zone's VTIMEZONE (its transitions, from the IANA database): built once per zone and process."""
    return Timezone.from_tzinfo(ZoneInfo(zone_name), tzid=zone_name)


def feed_subjects(feed: CalendarFeed) -> tuple[str, ...]:
    """The kinds of date the feed holds (all a calendar shows unless its user picked some)."""
    return tuple(s for s in dates.CALENDAR_SUBJECTS if s in feed.subjects) if feed.subjects else dates.CALENDAR_SUBJECTS


def address(request, feed: CalendarFeed) -> str:
    """The feed's secret address, absolute (what a calendar app subscribes to)."""
    return request.build_absolute_uri(reverse("reminders:feed_ics", args=[feed.token]))


def time_zone_of(feed: CalendarFeed) -> str:
    return feed.time_zone or settings.QIYUE_CALENDAR_TIME_ZONE


def fold(line: bytes) -> bytes:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    if len(line) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while len(line) - start > limit:
        cut = start + limit
        while line[cut] & 0xC0 == 0x80:  # a continuation byte: cut before its character
            cut -= 1
        parts.append(line[start:cut])
        start, limit = cut, 74  # a continuation line starts with a space
    parts.append(line[start:])
    return b"\r\n ".join(parts)


def _text(value: str) -> bytes:
    return vText(value).to_ical()


def build(feed: CalendarFeed, *, today: datetime.date | None = None) -> bytes:
    user = feed.user
    zone_name = time_zone_of(feed)
    today = today or timezone.localdate()
    entries = selectors.user_dates(user, today - PAST, today + AHEAD, limit=MAX_EVENTS,
                                   subjects=feed_subjects(feed))
    base = settings.QIYUE_BASE_URL.rstrip("/")
    stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ").encode()
    start_at, end_at = AT.strftime("T%H%M%S").encode(), (datetime.datetime.combine(today, AT) + LENGTH).strftime(
        "T%H%M%S").encode()
    tzid = _text(zone_name)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        calendar = Calendar()
        calendar.add("prodid", "-//Qiyue//Contract dates//ZH")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", _("Qiyue: %(name)s's contract dates") % {"name": str(user)})
        calendar.add("x-wr-timezone", zone_name)
        calendar.add_component(vtimezone(zone_name))
        texts = summaries()
        events = []
        for entry in entries:
            url = base + entry.url
            day = entry.date.strftime("%Y%m%d").encode()
            events.append(b"\r\n".join((
                b"BEGIN:VEVENT",
                b"UID:" + f"{entry.subject}-{entry.object_type}-{entry.object_id}@qiyue".encode(),
                b"DTSTAMP:" + stamp,
                b"DTSTART;TZID=" + tzid + b":" + day + start_at,
                b"DTEND;TZID=" + tzid + b":" + day + end_at,
                fold(b"SUMMARY:" + _text(summary(entry, texts))),
                fold(b"URL:" + url.encode()),
                fold(b"DESCRIPTION:" + _text(f"{entry.number} {entry.title}\n{url}")),
                b"TRANSP:TRANSPARENT",
                b"END:VEVENT",
            )))
    head, end = calendar.to_ical().rsplit(b"END:VCALENDAR", 1)
    return head + b"".join(event + b"\r\n" for event in events) + b"END:VCALENDAR" + end
