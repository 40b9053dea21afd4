"""The one VEVENT model: every property, zones, escaping and folding, read back by two parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from app.domain import offers
from app.domain.calendar import COORDINATION, ESTABLISHMENT, TRAINER, Organizer, session_event, single_event_calendar
from app.extensions import db
from app.models import Audience, Force, Topic
from tests.factories import (
    MONDAY_9,
    make_coordinator,
    make_establishment,
    make_qualified_trainer,
    make_request,
    make_session_in_planning,
    make_trainer,
)
from tests.helpers import assert_parses_everywhere

# Through db.session only, nothing committed: each test's rows go with its rolled-back transaction.
pytestmark = pytest.mark.rolled_back

ORGANIZER = Organizer("no-reply@relais.localhost", "Coordination police nationale — Rhône (69)")
STAMP = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def confirmed(**request_fields):
    intervention = make_session_in_planning(room="Salle « Jean Moulin », bâtiment B; 2e étage", **request_fields)
    trainer = make_qualified_trainer()
    offers.assign_directly(db.session, intervention, trainer, MONDAY_9, MONDAY_9 + timedelta(hours=1),
                           make_coordinator("69", Force.POLICE), datetime(2026, 11, 30, 9, tzinfo=UTC))
    db.session.flush()
    return intervention, trainer


def parse_both(data: bytes):
    """The same bytes through icalendar and through vobject, independent parsers, and Mozilla's ical.js, which must
    agree on each event's instant (`assert_parses_everywhere`)."""
    parsed = assert_parses_everywhere(data)
    return parsed.calendar, parsed.vobject


def test_a_confirmed_session_as_an_event_with_every_property(app, clock):
    intervention, trainer = confirmed(contact_email="cpe@college.example")
    event = session_event(intervention, variant=TRAINER, url="https://relais.example/accueil",
                          organizer=ORGANIZER, stamp=STAMP)
    data = single_event_calendar(event, "Europe/Paris", method="REQUEST")
    text = data.decode("utf-8")
    assert "DTSTART;TZID=Europe/Paris:20270111T090000" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/Paris" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n")), "lines are folded at 75 octets"
    assert "\\, bâtiment B\\; 2e étage" in text, "commas and semicolons are escaped"
    first, second = parse_both(data)
    assert str(first["METHOD"]) == "REQUEST" and second.method.value == "REQUEST"
    [vevent] = first.walk("VEVENT")
    assert str(vevent["UID"]) == intervention.ical_uid == second.vevent.uid.value
    assert vevent["SEQUENCE"] == 1 and second.vevent.sequence.value == "1"
    assert vevent.decoded("DTSTART") == MONDAY_9 and second.vevent.dtstart.value == MONDAY_9
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert "Salle « Jean Moulin », bâtiment B; 2e étage" in str(vevent["LOCATION"])
    assert second.vevent.location.value.endswith("Salle « Jean Moulin », bâtiment B; 2e étage")
    assert vevent["GEO"].latitude == round(intervention.request.establishment.latitude, 6)
    assert str(vevent["ORGANIZER"]) == "mailto:no-reply@relais.localhost"
    attendees = {str(a): a.params for a in vevent["ATTENDEE"]}
    assert attendees[f"mailto:{trainer.user.email}"]["PARTSTAT"] == "ACCEPTED"
    assert attendees[f"mailto:{trainer.user.email}"]["ROLE"] == "REQ-PARTICIPANT"
    assert "mailto:cpe@college.example" in attendees
    assert {a.value for a in second.vevent.attendee_list} == set(attendees)
    assert "Prévention" in vevent["CATEGORIES"].cats
    assert str(vevent["URL"]) == "https://relais.example/accueil"
    assert "Cannabis" in str(vevent["DESCRIPTION"]) and trainer.full_name in str(vevent["DESCRIPTION"])
    assert "Cannabis" in second.vevent.description.value
    [alarm] = vevent.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(days=-1)


def test_an_establishment_sees_no_officer_address_and_a_cancellation_has_no_alarm(app, clock):
    intervention, trainer = confirmed()
    event = session_event(intervention, variant=ESTABLISHMENT, url="https://relais.example/demandes/1",
                          organizer=ORGANIZER, stamp=STAMP, status="CANCELLED")
    text = event.to_ical().decode("utf-8")
    assert trainer.user.email not in text
    assert trainer.full_name in Calendar.from_ical(single_event_calendar(event, "Europe/Paris")).walk("VEVENT")[0][
        "DESCRIPTION"]
    assert "STATUS:CANCELLED" in text and "BEGIN:VALARM" not in text


def test_an_overseas_session_carries_its_own_zone(app, clock):
    establishment = make_establishment("974", force=Force.GENDARMERIE)
    request = make_request(establishment, status="in_planning", group_count=1)
    intervention = request.interventions[0]
    trainer = make_trainer("974", Force.GENDARMERIE)
    trainer.topics = [db.session.get(Topic, "cannabis")]
    trainer.audiences = [db.session.get(Audience, "4e")]
    start = datetime(2027, 1, 11, 5, 0, tzinfo=UTC)  # 9:00 in Saint-Denis (UTC+4)
    offers.assign_directly(db.session, intervention, trainer, start, start + timedelta(hours=1),
                           make_coordinator("974", Force.GENDARMERIE), clock.now())
    event = session_event(intervention, variant=COORDINATION, url="https://relais.example/x", organizer=ORGANIZER,
                          stamp=STAMP)
    data = single_event_calendar(event, "Indian/Reunion")
    assert b"DTSTART;TZID=Indian/Reunion:20270111T090000" in data
    first, second = parse_both(data)
    assert first.walk("VTIMEZONE")[0]["TZID"] == "Indian/Reunion"
    assert second.vevent.dtstart.value == start
