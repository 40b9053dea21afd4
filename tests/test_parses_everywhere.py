"""The shared check that a calendar parses everywhere (tests/helpers.py `assert_parses_everywhere`): icalendar,
vobject and Mozilla's ical.js (node, tests/icaljs_check.mjs) read a session's invitation and agree on its instant;
a calendar one of them misreads fails it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain import offers
from app.domain.calendar import TRAINER
from app.extensions import db
from app.invitations import event_calendar
from app.models import Audience, Force, Topic
from tests.factories import make_coordinator, make_establishment, make_request, make_trainer
from tests.helpers import assert_parses_everywhere, icaljs_read

pytestmark = pytest.mark.rolled_back

PLACES = {
    # département, force, first day of the request's window, start (UTC): 9:00 local time
    "Lyon in winter (UTC+1)": ("69", Force.POLICE, date(2027, 1, 11), datetime(2027, 1, 11, 8, 0, tzinfo=UTC)),
    "Lyon in summer (UTC+2)": ("69", Force.POLICE, date(2027, 6, 7), datetime(2027, 6, 7, 7, 0, tzinfo=UTC)),
    "La Réunion (UTC+4)": ("974", Force.GENDARMERIE, date(2027, 1, 11), datetime(2027, 1, 11, 5, 0, tzinfo=UTC)),
}


def confirmed_session(departement: str, force: Force, first_day: date, start: datetime):
    establishment = make_establishment(departement, force=force)
    request = make_request(establishment, status="in_planning", group_count=1, start=first_day,
                           contact_email="vie.scolaire@college.example")
    intervention = request.interventions[0]
    trainer = make_trainer(departement, force)
    trainer.topics = [db.session.get(Topic, "cannabis")]
    trainer.audiences = [db.session.get(Audience, "4e")]
    offers.assign_directly(db.session, intervention, trainer, start, start + timedelta(hours=1),
                           make_coordinator(departement, force), datetime(2026, 11, 30, 9, tzinfo=UTC))
    db.session.flush()
    return intervention, trainer


@pytest.mark.parametrize("place", PLACES, ids=list(PLACES))
def test_a_session_invitation_parses_in_icalendar_vobject_and_icaljs_at_its_instant(app, clock, place):
    intervention, trainer = confirmed_session(*PLACES[place])
    with app.test_request_context("/"):
        parsed = assert_parses_everywhere(event_calendar(intervention, TRAINER, "REQUEST"))
    uid = intervention.ical_uid
    assert parsed.icaljs["method"] == "REQUEST" and parsed.vobject.method.value == "REQUEST"
    assert parsed.icaljs_start(uid) == intervention.starts_at.replace(tzinfo=UTC)
    event = parsed.icaljs_event(uid)
    assert event["end"] == intervention.ends_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert event["zone"] == intervention.request.establishment.timezone
    assert event["status"] == "CONFIRMED" and event["sequence"] == 1
    assert f"mailto:{trainer.user.email}" in [a["address"] for a in event["attendees"]]
    [vevent] = parsed.calendar.walk("VEVENT")
    assert vevent.decoded("DTSTART") == intervention.starts_at.replace(tzinfo=UTC)


PARIS_WRONG_SUMMER = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VTIMEZONE\r
TZID:Europe/Paris\r
BEGIN:STANDARD\r
DTSTART:19701025T030000\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0100\r
END:STANDARD\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:summer@relais.test\r
DTSTAMP:20261201T100000Z\r
DTSTART;TZID=Europe/Paris:20270607T090000\r
DTEND;TZID=Europe/Paris:20270607T100000\r
SUMMARY:Prévention\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_a_vtimezone_that_forgets_summer_time_fails_the_check():
    """icalendar reads Europe/Paris from its zone database (UTC+2 in June), ical.js from the VTIMEZONE (UTC+1 all
    year): the helper sees they disagree, as Outlook, which trusts the VTIMEZONE, would show the wrong hour."""
    with pytest.raises(AssertionError, match="VTIMEZONE disagrees"):
        assert_parses_everywhere(PARIS_WRONG_SUMMER)


def test_a_zone_the_calendar_does_not_define_fails_the_check():
    orphan = PARIS_WRONG_SUMMER.replace("TZID:Europe/Paris\r", "TZID:Europe/Lyon\r")
    with pytest.raises(AssertionError, match="TZID Europe/Paris has no VTIMEZONE"):
        assert_parses_everywhere(orphan)


def test_a_text_icaljs_cannot_read_fails_with_its_reason():
    broken = PARIS_WRONG_SUMMER.replace("SUMMARY:Prévention\r\n", "SUMMARY:Prévention\r\nnot a line\r\n")
    with pytest.raises(AssertionError, match="ical.js refuses the calendar: .*invalid line"):
        icaljs_read(broken)
