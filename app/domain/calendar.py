"""One iCalendar model of a session (RFC 5545), used by invitations, feeds and exports alike.

A session becomes one VEVENT: stable UID, SEQUENCE raised on every change of time, place or status,
DTSTART/DTEND in the place's own zone with its VTIMEZONE, SUMMARY and DESCRIPTION, LOCATION
and GEO, STATUS, ORGANIZER (the coordination office), ATTENDEEs with role and PARTSTAT, CATEGORIES,
URL and a reminder. `icalendar` escapes text and folds lines.

Its texts (SUMMARY, DESCRIPTION, CATEGORIES, the reminder) are in the language of the moment, through the
catalogue: the caller chooses it (`flask_babel.force_locale`), the reader's: an invitation in its recipient's, a
feed in its owner's, a download in the page's. The labels of topics, audiences and forces come from
`app.domain.vocabulary`, the group's from `GroupLabel`.

What a reader may see depends on who they are (the "variant"): trainers and coordinators see
everything; an establishment sees its own contact but not the officers' e-mail addresses.
"""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask_babel import get_translations
from icalendar import (
    Alarm,
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vText,
)

from app.domain.vocabulary import audience_label, force_label, topic_label
from app.models import AssignmentStatus, Intervention, InterventionStatus, User

PRODID = "-//Relais//Interventions de prévention//FR"
TRAINER, ESTABLISHMENT, COORDINATION = "formateur", "etablissement", "coordination"
VARIANTS = (TRAINER, ESTABLISHMENT, COORDINATION)
# How a VEVENT is written. Feeds keep each session's VEVENT (`calendar_entry`) and rebuild it only when the session
# changes: a change to how events are written (not to the sessions) raises this number, and after the deployment
# every kept event is rebuilt at once (`feeds._entry_version` includes it). 2: names with typographic quotes in CN,
# Outlook-style VTIMEZONEs; 3: the texts in the reader's language.
EVENT_FORMAT = 3
STATUS = {
    InterventionStatus.TO_SCHEDULE: "TENTATIVE",
    InterventionStatus.OFFERED: "TENTATIVE",
    InterventionStatus.CONFIRMED: "CONFIRMED",
    InterventionStatus.DONE: "CONFIRMED",
    InterventionStatus.NOT_HELD: "CANCELLED",
    InterventionStatus.CANCELLED: "CANCELLED",
}


@dataclass(frozen=True)
class Organizer:
    """The coordination office the invitations come from (replies go there)."""

    email: str
    name: str = "Coordination Relais"


def parameter_text(value: str) -> str:
    """A name as a parameter value (CN) every client shows as typed: a straight double quote cannot be written
    there except through RFC 6868's `^'`, which Outlook and Google show literally, so quotes become typographic
    ones (« Jean “Jeannot” Dupont »); a line break, which would be `^n`, becomes a space."""
    text = " ".join(value.split()) if any(c in value for c in "\r\n") else value
    parts = text.split('"')
    return "".join(part + ("“" if index % 2 == 0 else "”") for index, part in enumerate(parts[:-1])) + parts[-1]


def _address(email: str, name: str, **parameters: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(parameter_text(name))
    for key, value in parameters.items():
        address.params[key.replace("_", "-").upper()] = vText(parameter_text(value))
    return address


def _place(intervention: Intervention) -> str:
    request = intervention.request
    establishment = request.establishment
    place = request.place or f"{establishment.address}, {establishment.postcode} {establishment.commune_name}"
    parts = [establishment.name, place]
    if request.room:
        parts.append(request.room)
    return ", ".join(parts)


def _accepted(intervention: Intervention):
    return [a for a in intervention.assignments if a.status is AssignmentStatus.ACCEPTED]


Texts = Callable[..., str]


def catalogue() -> Texts:
    """`gettext` with the catalogue of the moment looked up once: a feed's cold build writes a dozen texts for each
    of ten thousand events, and flask_babel looks its catalogue up again on every call (a sixth of the build)."""
    translations = get_translations()

    def gettext(message: str, **values) -> str:
        text = translations.ugettext(message)
        return text % values if values else text

    return gettext


def _group(intervention: Intervention) -> str:
    return str(intervention.group_label)  # « Groupe 2 » through the catalogue (an f-string would keep the French)


def summary(intervention: Intervention, _: Texts | None = None) -> str:
    _ = _ or catalogue()
    return _("Prévention des conduites addictives — %(establishment)s (%(group)s)",
             establishment=intervention.request.establishment.name, group=_group(intervention))


def _force(intervention: Intervention, missing: str) -> str:
    return force_label(intervention.force, missing)


def description(intervention: Intervention, variant: str, url: str, _: Texts | None = None) -> str:
    _ = _ or catalogue()
    request = intervention.request
    establishment = request.establishment
    lines = [
        _("Intervention de prévention des conduites addictives — %(force)s",
          force=_force(intervention, _("force à déterminer"))),
        _("Établissement : %(name)s", name=establishment.name),
        _("Groupe : %(group)s, %(count)s personnes", group=_group(intervention), count=request.people_per_group),
        _("Public : %(audiences)s", audiences=", ".join(audience_label(a) for a in request.audiences)),
        _("Thèmes : %(topics)s", topics=", ".join(topic_label(t) for t in request.topics)),
    ]
    if request.room:
        lines.append(_("Salle : %(room)s", room=request.room))
    if request.equipment:
        lines.append(_("Matériel : %(equipment)s", equipment=request.equipment))
    contact = _("Contact sur place : %(name)s, %(phone)s", name=request.contact_name, phone=request.contact_phone)
    lines.append(contact + (f", {request.contact_email}" if request.contact_email else ""))
    trainers = [f"{a.trainer.rank} {a.trainer.full_name}" for a in _accepted(intervention)]
    if trainers:
        lines.append(_("Formateurs : %(names)s", names=", ".join(trainers)))
    lines.append(_("Demande n° %(number)s", number=request.id))
    lines.append(_("Détails : %(url)s", url=url))
    return "\n".join(lines)


def session_event(intervention: Intervention, *, variant: str, url: str, organizer: Organizer, stamp: datetime,
                  status: str | None = None, trainers: Sequence[User] | None = None,
                  contact: str | None = None) -> Event:
    """The session as a VEVENT for one kind of reader; `status` overrides (a withdrawn trainer's CANCELLED);
    `trainers` and `contact`, the officers and the contact address named as attendees when not those of the
    session now (a CANCEL names whom it removes: a trainer withdrawn, a contact replaced); `contact=""` names no
    contact (a CANCEL that removes trainers only)."""
    request = intervention.request
    establishment = request.establishment
    zone = ZoneInfo(establishment.timezone)
    _ = catalogue()  # in the language of the moment: the caller's force_locale, or the page's
    event = Event()
    event.add("uid", intervention.ical_uid)
    event.add("sequence", intervention.ical_sequence)
    event.add("dtstamp", stamp)
    event.add("created", intervention.created_at)
    event.add("last-modified", intervention.updated_at)
    event.add("dtstart", intervention.starts_at.astimezone(zone))
    event.add("dtend", intervention.ends_at.astimezone(zone))
    event.add("summary", summary(intervention, _))
    event.add("description", description(intervention, variant, url, _))
    event.add("location", _place(intervention))
    latitude = establishment.latitude if establishment.latitude is not None else None
    if latitude is not None and establishment.longitude is not None:
        event.add("geo", (round(latitude, 6), round(establishment.longitude, 6)))
    event_status = status or STATUS[intervention.status]
    event.add("status", event_status)
    event.add("transp", "TRANSPARENT" if event_status == "CANCELLED" else "OPAQUE")
    event.add("class", "PRIVATE")
    event.add("organizer", _address(organizer.email, organizer.name))
    if variant != ESTABLISHMENT:
        for user in (trainers if trainers is not None else [a.trainer.user for a in _accepted(intervention)]):
            event.add("attendee", _address(user.email, user.full_name, role="REQ-PARTICIPANT", partstat="ACCEPTED",
                                           cutype="INDIVIDUAL", rsvp="FALSE"))
    contact_email = contact or request.contact_email or (request.created_by.email if request.created_by else None)
    if contact_email and contact != "":
        event.add("attendee", _address(contact_email, request.contact_name if contact is None else contact,
                                       role="REQ-PARTICIPANT",
                                       partstat="NEEDS-ACTION", cutype="INDIVIDUAL", rsvp="FALSE"))
    event.add("categories", [_("Prévention"), _force(intervention, "Relais")])
    event.add("url", url)
    if event_status != "CANCELLED":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("Demain : %(summary)s", summary=summary(intervention, _)))
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
    return event


# -- time zones -------------------------------------------------------------------------------------------
#
# Outlook desktop is reported to ignore RDATE lists: a VTIMEZONE written as dated observances makes it show
# summer sessions an hour off. Each zone is written the way Outlook and Exchange write theirs: a STANDARD and a
# DAYLIGHT observance with a yearly RRULE for a zone with summer time (Paris, Saint-Pierre-et-Miquelon), one
# STANDARD whose offset never changes for the others (La Réunion, Mayotte, the Antilles, Guyane). The rules are
# derived from zoneinfo's transitions, not written by hand, and checked: the VTIMEZONE read back by icalendar
# (which expands the RRULEs) must give zoneinfo's offset on both sides of every transition of the span. A zone
# whose transitions do not follow one yearly rule over the span (rules changed in between) is written as dated
# observances instead.


@dataclass(frozen=True)
class Transition:
    """A change of a zone's offset (or name): its instant, and the offsets and name before and after."""

    at: datetime  # UTC
    before: timedelta
    after: timedelta
    name: str
    dst: bool

    @property
    def onset(self) -> datetime:
        """The observance's DTSTART: the wall-clock time of the change, read in the offset before it (RFC 5545)."""
        return (self.at + self.before).replace(tzinfo=None)


def _state(zone: ZoneInfo, moment: datetime) -> tuple[timedelta, bool, str]:
    local = moment.astimezone(zone)
    return local.utcoffset(), bool(local.dst()), local.tzname()


def zone_transitions(zone_name: str, start: datetime, end: datetime) -> list[Transition]:
    """Every change of the zone between two UTC instants, from zoneinfo (a day at a time, then to the second)."""
    zone = ZoneInfo(zone_name)
    found: list[Transition] = []
    moment, state = start, _state(zone, start)
    while moment < end:
        following = min(moment + timedelta(days=1), end)
        if _state(zone, following) != state:
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) // 2
                low, high = (low, middle) if _state(zone, middle) != state else (middle, high)
            after = _state(zone, high)
            found.append(Transition(high, state[0], after[0], after[2], after[1]))
            state = after
        moment = following
    return found


def _yearly_rule(onsets: list[Transition], years: range) -> dict | None:
    """The RRULE (month, nth or last weekday) of one kind of change, if it happens once a year, every year of the
    span, on the same weekday of the same month, at the same time, with the same offsets and name."""
    if [t.onset.year for t in onsets] != list(years):
        return None
    first = onsets[0]
    if any((t.onset.month, t.onset.weekday(), t.onset.time(), t.before, t.after, t.name)
           != (first.onset.month, first.onset.weekday(), first.onset.time(), first.before, first.after, first.name)
           for t in onsets):
        return None
    day = gregorian.day_abbr[first.onset.weekday()][:2].upper()
    if all(t.onset.day + 7 > gregorian.monthrange(t.onset.year, t.onset.month)[1] for t in onsets):
        ordinal = -1  # the last Sunday of March: what every client understands, and Outlook writes
    elif len({(t.onset.day - 1) // 7 for t in onsets}) == 1:
        ordinal = (first.onset.day - 1) // 7 + 1
    else:
        return None
    return {"freq": "yearly", "bymonth": first.onset.month, "byday": f"{ordinal}{day}"}


def _observance(transition: Transition, onset: datetime) -> TimezoneStandard | TimezoneDaylight:
    observance = TimezoneDaylight() if transition.dst else TimezoneStandard()
    observance.add("dtstart", onset)
    observance.add("tzoffsetfrom", transition.before)
    observance.add("tzoffsetto", transition.after)
    if transition.name:
        observance.add("tzname", transition.name)
    return observance


def _fixed(zone_name: str, moment: datetime) -> Transition:
    offset, dst, name = _state(ZoneInfo(zone_name), moment)
    return Transition(moment, offset, offset, name, dst)


def _rules_form(zone_name: str, transitions: list[Transition], years: range) -> Timezone | None:
    timezone = Timezone()
    timezone.add("tzid", zone_name)
    if not transitions:  # one offset all along: one STANDARD, TZOFFSETFROM = TZOFFSETTO, as Exchange writes
        fixed = _fixed(zone_name, datetime(years[0], 1, 1, tzinfo=UTC))
        timezone.add_component(_observance(Transition(fixed.at, fixed.before, fixed.after, fixed.name, False),
                                           datetime(1970, 1, 1)))
        return timezone
    kinds = {True: [t for t in transitions if t.dst], False: [t for t in transitions if not t.dst]}
    if not kinds[True] or not kinds[False]:
        return None
    for dst in (False, True):
        rule = _yearly_rule(kinds[dst], years)
        if rule is None:
            return None
        observance = _observance(kinds[dst][0], kinds[dst][0].onset)
        observance.add("rrule", rule)
        timezone.add_component(observance)
    return timezone


def _dated_form(zone_name: str, transitions: list[Transition], start: datetime) -> Timezone:
    """The fallback: the offset at the start of the span, then each change on its own date (RDATE lists)."""
    timezone = Timezone()
    timezone.add("tzid", zone_name)
    timezone.add_component(_observance(_fixed(zone_name, start), start.replace(tzinfo=None)))
    groups: dict[tuple, list[Transition]] = {}
    for transition in transitions:
        groups.setdefault((transition.before, transition.after, transition.name, transition.dst), []).append(
            transition)
    for group in groups.values():
        observance = _observance(group[0], group[0].onset)
        for later in group[1:]:
            observance.add("rdate", later.onset)
        timezone.add_component(observance)
    return timezone


def reads_as_zoneinfo(timezone: Timezone, zone_name: str, transitions: list[Transition], start: datetime,
                      end: datetime) -> bool:
    """The VTIMEZONE as a parser reads it (icalendar expands its RRULEs and RDATEs) gives zoneinfo's offset
    on both sides of every transition from `start` to `end`, and at the start and middle of each month."""
    read = timezone.to_tz(lookup_tzid=False)
    zone = ZoneInfo(zone_name)
    instants = [start, end - timedelta(seconds=1)]
    for transition in transitions:
        if transition.at > start:
            instants += [transition.at - timedelta(seconds=1), transition.at]
    month = start
    while month < end:
        instants += [month, month + timedelta(days=15)]
        month = (month + timedelta(days=32)).replace(day=1)
    return all(moment.astimezone(read).utcoffset() == moment.astimezone(zone).utcoffset() for moment in instants)


@lru_cache(maxsize=64)
def vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE, right for every instant from the year before the first to the year after the last
    (an event's year in UTC and in local time may differ: 23:30 on 31 December in Guadeloupe is already
    1 January in UTC). Cached per zone and span: a feed's build does not recompute it."""
    # The rules start a year earlier still: on 1 January of the span's first year, Sydney is in its summer time,
    # an offset a reader only knows from an onset before that instant.
    years = range(first_year - 2, last_year + 2)
    start, end = datetime(years[0], 1, 1, tzinfo=UTC), datetime(years[-1] + 1, 1, 1, tzinfo=UTC)
    transitions = zone_transitions(zone_name, start, end)
    checked = datetime(first_year - 1, 1, 1, tzinfo=UTC)
    timezone = _rules_form(zone_name, transitions, years)
    if timezone is not None and reads_as_zoneinfo(timezone, zone_name, transitions, checked, end):
        return timezone
    return _dated_form(zone_name, transitions, start)


def new_calendar(*, method: str | None = None, name: str | None = None, refresh: timedelta | None = None
                 ) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
    if refresh:
        # Both as RFC 5545 durations (PT1H): Outlook ignores an X-PUBLISHED-TTL it cannot read as one.
        calendar.add("refresh-interval", vDuration(refresh), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(refresh))
    return calendar


def add_timezones(calendar: Calendar, zones: Iterable[str], years: Iterable[int]) -> None:
    """A VTIMEZONE for each zone used, covering the years of the events (Europe/Paris, overseas)."""
    years = sorted(set(years)) or [date.today().year]
    for zone in sorted(set(zones)):
        calendar.add_component(vtimezone(zone, years[0], years[-1]))


def single_event_calendar(event: Event, zone: str, *, method: str | None = None) -> bytes:
    """A whole calendar around one event: invitations (with METHOD) and "add to my calendar" (without)."""
    calendar = new_calendar(method=method)
    add_timezones(calendar, [zone], [event.decoded("dtstart").year, event.decoded("dtend").year])
    calendar.add_component(event)
    return calendar.to_ical()


def assemble_feed(calendar_head: Calendar, vevents: Iterable[str]) -> bytes:
    """Splices serialized VEVENTs (kept per session) into a calendar, without parsing them again."""
    head = calendar_head.to_ical().decode("utf-8")
    closing = "END:VCALENDAR\r\n"
    assert head.endswith(closing)
    return (head[: -len(closing)] + "".join(vevents) + closing).encode("utf-8")
