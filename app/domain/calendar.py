"""One iCalendar model of a session (RFC 5545), used by invitations, feeds and exports alike.

A session becomes one VEVENT: stable UID, SEQUENCE raised on every change of time, place or status,
DTSTART/DTEND in the place's own zone with its VTIMEZONE, French SUMMARY and DESCRIPTION, LOCATION
and GEO, STATUS, ORGANIZER (the coordination office), ATTENDEEs with role and PARTSTAT, CATEGORIES,
URL and a reminder. `icalendar` escapes text and folds lines.

What a reader may see depends on who they are (the "variant"): trainers and coordinators see
everything; an establishment sees its own contact but not the officers' e-mail addresses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vText

from app.models import AssignmentStatus, Intervention, InterventionStatus, User

PRODID = "-//Relais//Interventions de prévention//FR"
TRAINER, ESTABLISHMENT, COORDINATION = "formateur", "etablissement", "coordination"
VARIANTS = (TRAINER, ESTABLISHMENT, COORDINATION)
FORCE_LABELS = {"police": "Police nationale", "gendarmerie": "Gendarmerie nationale"}
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


def _address(email: str, name: str, **parameters: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    for key, value in parameters.items():
        address.params[key.replace("_", "-").upper()] = vText(value)
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


def summary(intervention: Intervention) -> str:
    request = intervention.request
    return f"Prévention des conduites addictives — {request.establishment.name} ({intervention.group_label})"


def description(intervention: Intervention, variant: str, url: str) -> str:
    request = intervention.request
    establishment = request.establishment
    lines = [
        f"Intervention de prévention des conduites addictives — "
        f"{FORCE_LABELS.get(intervention.force.value if intervention.force else '', 'force à déterminer')}",
        f"Établissement : {establishment.name}",
        f"Groupe : {intervention.group_label}, {request.people_per_group} personnes",
        "Public : " + ", ".join(a.label_fr for a in request.audiences),
        "Thèmes : " + ", ".join(t.label_fr for t in request.topics),
    ]
    if request.room:
        lines.append(f"Salle : {request.room}")
    if request.equipment:
        lines.append(f"Matériel : {request.equipment}")
    contact = f"Contact sur place : {request.contact_name}, {request.contact_phone}"
    lines.append(contact + (f", {request.contact_email}" if request.contact_email else ""))
    trainers = [f"{a.trainer.rank} {a.trainer.full_name}" for a in _accepted(intervention)]
    if trainers:
        lines.append("Formateurs : " + ", ".join(trainers))
    lines.append(f"Demande n° {request.id}")
    lines.append(f"Détails : {url}")
    return "\n".join(lines)


def session_event(intervention: Intervention, *, variant: str, url: str, organizer: Organizer, stamp: datetime,
                  status: str | None = None, trainers: Sequence[User] | None = None,
                  contact: str | None = None) -> Event:
    """The session as a VEVENT for one kind of reader; `status` overrides (a withdrawn trainer's CANCELLED);
    `trainers` and `contact`, the officers and the contact address named as attendees when not those of the
    session now (a CANCEL names whom it removes: a trainer withdrawn, a contact replaced)."""
    request = intervention.request
    establishment = request.establishment
    zone = ZoneInfo(establishment.timezone)
    event = Event()
    event.add("uid", intervention.ical_uid)
    event.add("sequence", intervention.ical_sequence)
    event.add("dtstamp", stamp)
    event.add("created", intervention.created_at)
    event.add("last-modified", intervention.updated_at)
    event.add("dtstart", intervention.starts_at.astimezone(zone))
    event.add("dtend", intervention.ends_at.astimezone(zone))
    event.add("summary", summary(intervention))
    event.add("description", description(intervention, variant, url))
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
    if contact_email:
        event.add("attendee", _address(contact_email, request.contact_name if contact is None else contact,
                                       role="REQ-PARTICIPANT",
                                       partstat="NEEDS-ACTION", cutype="INDIVIDUAL", rsvp="FALSE"))
    event.add("categories", ["Prévention", FORCE_LABELS.get(intervention.force.value if intervention.force else "",
                                                            "Relais")])
    event.add("url", url)
    if event_status != "CANCELLED":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Demain : {summary(intervention)}")
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
    return event


@lru_cache(maxsize=64)
def _vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    return Timezone.from_tzid(zone_name, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1))


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
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", refresh)
    return calendar


def add_timezones(calendar: Calendar, zones: Iterable[str], years: Iterable[int]) -> None:
    """A VTIMEZONE for each zone used, covering the years of the events (Europe/Paris, overseas)."""
    years = sorted(set(years)) or [date.today().year]
    for zone in sorted(set(zones)):
        calendar.add_component(_vtimezone(zone, years[0], years[-1]))


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


def entry_version(intervention: Intervention, variant: str, url: str, organizer: Organizer,
                  status: str | None = None) -> str:
    """What the cached VEVENT depends on; a different value means it must be rebuilt."""
    key = f"{intervention.ical_sequence}|{intervention.updated_at.isoformat()}|{variant}|{url}|{organizer}|{status}"
    return hashlib.sha256(key.encode()).hexdigest()[:40]
