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


# -- time zones as Outlook writes them (#19) ----------------------------------------------------------------


WITHOUT_SUMMER_TIME = ("Indian/Reunion", "Indian/Mayotte", "America/Martinique", "America/Guadeloupe",
                       "America/Cayenne", "Pacific/Noumea", "Pacific/Tahiti", "Pacific/Wallis")
WITH_SUMMER_TIME = {"Europe/Paris": ("-1SU", 3, "-1SU", 10), "America/Miquelon": ("2SU", 3, "1SU", 11),
                    "Australia/Sydney": ("1SU", 10, "1SU", 4)}


def observances(timezone) -> dict[str, list]:
    """The observances of a VTIMEZONE as a reader finds them in its text."""
    from icalendar import Timezone

    read = Timezone.from_ical(timezone.to_ical())
    return {kind: read.walk(kind) for kind in ("STANDARD", "DAYLIGHT")}


@pytest.mark.parametrize("zone", WITH_SUMMER_TIME)
def test_a_zone_with_summer_time_is_a_standard_and_a_daylight_with_yearly_rules(zone):
    from app.domain.calendar import vtimezone

    text = vtimezone(zone, 2026, 2030).to_ical().decode()
    assert "RDATE" not in text, "Outlook desktop ignores RDATE"
    found = observances(vtimezone(zone, 2026, 2030))
    assert len(found["STANDARD"]) == len(found["DAYLIGHT"]) == 1
    daylight_day, daylight_month, standard_day, standard_month = WITH_SUMMER_TIME[zone]
    for kind, day, month in (("DAYLIGHT", daylight_day, daylight_month), ("STANDARD", standard_day, standard_month)):
        [observance] = found[kind]
        rule = observance["RRULE"]
        assert rule["FREQ"] == ["YEARLY"] and rule["BYMONTH"] == [month] and rule["BYDAY"] == [day]
        assert "UNTIL" not in rule and "COUNT" not in rule
    [daylight], [standard] = found["DAYLIGHT"], found["STANDARD"]
    assert daylight["TZOFFSETFROM"].td == standard["TZOFFSETTO"].td
    assert daylight["TZOFFSETTO"].td == standard["TZOFFSETFROM"].td


def test_paris_changes_at_two_in_the_morning_local_time_read_in_the_offset_before():
    """RFC 5545: an observance's DTSTART is the wall-clock time of the change in the offset it changes from (2:00
    in March, 3:00 in October); icalendar's own dated form wrote 3:00 for the spring change."""
    from app.domain.calendar import vtimezone

    found = observances(vtimezone("Europe/Paris", 2027, 2027))
    assert found["DAYLIGHT"][0].decoded("DTSTART").time().hour == 2
    assert found["STANDARD"][0].decoded("DTSTART").time().hour == 3


@pytest.mark.parametrize("zone", WITHOUT_SUMMER_TIME)
def test_a_zone_without_summer_time_is_one_standard_of_one_offset(zone):
    from zoneinfo import ZoneInfo

    from app.domain.calendar import vtimezone

    timezone = vtimezone(zone, 2026, 2028)
    found = observances(timezone)
    assert found["DAYLIGHT"] == [] and len(found["STANDARD"]) == 1
    [standard] = found["STANDARD"]
    offset = datetime(2027, 7, 1, tzinfo=UTC).astimezone(ZoneInfo(zone)).utcoffset()
    assert standard["TZOFFSETFROM"].td == standard["TZOFFSETTO"].td == offset
    assert "RRULE" not in standard and "RDATE" not in standard


def offsets_read_back(zone: str, first_year: int, last_year: int):
    """The zone's VTIMEZONE as icalendar (expanding its RRULEs, not its own zone database) and vobject read it."""
    import vobject

    from app.domain.calendar import new_calendar, vtimezone

    calendar = new_calendar()
    calendar.add_component(vtimezone(zone, first_year, last_year))
    read_by_icalendar = vtimezone(zone, first_year, last_year).to_tz(lookup_tzid=False)
    read_by_vobject = vobject.readOne(calendar.to_ical().decode()).vtimezone.gettzinfo()
    return read_by_icalendar, read_by_vobject


@pytest.mark.parametrize("zone", [*WITH_SUMMER_TIME, "Indian/Reunion", "America/Guadeloupe"])
def test_the_rules_read_back_give_zoneinfo_offset_every_hour_around_every_change_of_the_span(zone):
    from zoneinfo import ZoneInfo

    from app.domain.calendar import zone_transitions

    first, last = 2026, 2031
    read = offsets_read_back(zone, first, last)
    start, end = datetime(first, 1, 1, tzinfo=UTC), datetime(last + 1, 1, 1, tzinfo=UTC)
    instants = [start + timedelta(days=day, hours=13) for day in range(0, (end - start).days, 3)]
    for change in zone_transitions(zone, start, end):
        instants += [change.at + timedelta(hours=hours) for hours in range(-3, 4)]
        instants += [change.at - timedelta(seconds=1)]
    assert len(instants) > 700
    for reader in read:
        wrong = [moment for moment in instants
                 if moment.astimezone(reader).utcoffset() != moment.astimezone(ZoneInfo(zone)).utcoffset()]
        assert wrong == [], f"{zone}: {reader} reads another offset at {wrong[:3]}"


def test_a_zone_whose_rules_changed_in_the_span_falls_back_to_dated_observances():
    """São Paulo stopped summer time in 2019: no yearly rule fits 2017–2020, each change is written on its date,
    and the dated form reads back right all the same."""
    from zoneinfo import ZoneInfo

    from app.domain.calendar import vtimezone

    timezone = vtimezone("America/Sao_Paulo", 2018, 2019)
    text = timezone.to_ical().decode()
    assert "RRULE" not in text and "RDATE" in text
    for reader in offsets_read_back("America/Sao_Paulo", 2018, 2019):
        for day in range(0, 365 * 3, 5):
            moment = datetime(2017, 1, 1, 12, tzinfo=UTC) + timedelta(days=day)
            assert moment.astimezone(reader).utcoffset() == moment.astimezone(ZoneInfo("America/Sao_Paulo")
                                                                              ).utcoffset(), moment
    # The same zone over years with one rule only is written as rules.
    assert "RRULE" not in vtimezone("America/Sao_Paulo", 2021, 2022).to_ical().decode().split("BEGIN:STANDARD")[0]
    assert len(observances(vtimezone("America/Sao_Paulo", 2021, 2022))["STANDARD"]) == 1


def test_the_vtimezone_of_a_zone_and_span_is_made_once():
    from app.domain.calendar import vtimezone

    vtimezone.cache_clear()
    first = vtimezone("Europe/Paris", 2027, 2028)
    assert vtimezone("Europe/Paris", 2027, 2028) is first
    assert vtimezone.cache_info().hits == 1


# Local wall-clock starts and the UTC instants they are: summers and winters of several years in Lyon, and late on
# 31 December overseas (Guadeloupe at 23:30 is already 1 January in UTC; La Réunion on 1 January at 2:00 is still
# 31 December in UTC).
LOCAL_STARTS = [
    ("Europe/Paris", datetime(2027, 1, 11, 9, 0), datetime(2027, 1, 11, 8, 0, tzinfo=UTC)),
    ("Europe/Paris", datetime(2027, 6, 7, 9, 0), datetime(2027, 6, 7, 7, 0, tzinfo=UTC)),
    ("Europe/Paris", datetime(2028, 3, 27, 9, 0), datetime(2028, 3, 27, 7, 0, tzinfo=UTC)),
    ("Europe/Paris", datetime(2028, 11, 6, 9, 0), datetime(2028, 11, 6, 8, 0, tzinfo=UTC)),
    ("Europe/Paris", datetime(2029, 10, 29, 14, 0), datetime(2029, 10, 29, 13, 0, tzinfo=UTC)),
    ("Europe/Paris", datetime(2029, 10, 26, 14, 0), datetime(2029, 10, 26, 12, 0, tzinfo=UTC)),
    ("America/Guadeloupe", datetime(2027, 12, 31, 23, 30), datetime(2028, 1, 1, 3, 30, tzinfo=UTC)),
    ("America/Guadeloupe", datetime(2028, 6, 5, 9, 0), datetime(2028, 6, 5, 13, 0, tzinfo=UTC)),
    ("Indian/Reunion", datetime(2027, 12, 31, 23, 30), datetime(2027, 12, 31, 19, 30, tzinfo=UTC)),
    ("Indian/Reunion", datetime(2029, 1, 1, 2, 0), datetime(2028, 12, 31, 22, 0, tzinfo=UTC)),
    ("America/Miquelon", datetime(2028, 7, 3, 9, 0), datetime(2028, 7, 3, 11, 0, tzinfo=UTC)),
    ("America/Miquelon", datetime(2028, 12, 31, 23, 30), datetime(2029, 1, 1, 2, 30, tzinfo=UTC)),
]


def test_local_starts_of_several_years_resolve_to_their_instant_in_every_parser():
    from zoneinfo import ZoneInfo

    from icalendar import Event

    from app.domain.calendar import add_timezones, new_calendar

    calendar = new_calendar(name="Relais")
    events = []
    for index, (zone, local, _instant) in enumerate(LOCAL_STARTS):
        event = Event()
        event.add("uid", f"session-{index}@relais.test")
        event.add("dtstamp", STAMP)
        start = local.replace(tzinfo=ZoneInfo(zone))
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(hours=1))
        event.add("summary", "Prévention")
        events.append(event)
    # The years as the feed computes them: from the UTC instants (2027 to 2029).
    add_timezones(calendar, {zone for zone, _, _ in LOCAL_STARTS}, {instant.year for _, _, instant in LOCAL_STARTS})
    for event in events:
        calendar.add_component(event)
    parsed = assert_parses_everywhere(calendar.to_ical())
    read_by_vobject = {e.uid.value: e.dtstart.value for e in parsed.vobject.vevent_list}
    for index, (_zone, _local, instant) in enumerate(LOCAL_STARTS):
        uid = f"session-{index}@relais.test"
        assert parsed.icaljs_start(uid) == instant, (uid, "ical.js, through the VTIMEZONE")
        assert read_by_vobject[uid].astimezone(UTC) == instant, (uid, "vobject, through the VTIMEZONE")
        assert parsed.calendar.walk("VEVENT")[index].decoded("DTSTART").astimezone(UTC) == instant


def test_a_feed_and_an_invitation_say_ttl_and_refresh_as_durations():
    from app.domain.calendar import new_calendar

    calendar = new_calendar(name="Relais", refresh=timedelta(hours=1))
    text = calendar.to_ical().decode()
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text and "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    read = Calendar.from_ical(text)
    assert read.decoded("REFRESH-INTERVAL") == timedelta(hours=1)


def test_a_name_with_double_quotes_is_written_with_typographic_quotes_not_rfc6868_carets(app, clock):
    """Outlook and Google show RFC 6868's `^'` literally: « Jean ^'Jeannot^' Dupont »."""
    intervention, trainer = confirmed(contact_email="cpe@college.example")
    intervention.request.contact_name = 'Jean "Jeannot" Dupont'
    trainer.user.full_name = 'Camille "Cam" Martin'
    organizer = Organizer("coordination@relais.example", 'Coordination "Rhône" police')
    event = session_event(intervention, variant=TRAINER, url="https://relais.example/x", organizer=organizer,
                          stamp=STAMP)
    data = single_event_calendar(event, "Europe/Paris", method="REQUEST")
    text = data.decode("utf-8")
    assert "^'" not in text and "^" not in text
    parsed = assert_parses_everywhere(data)
    names = {a["address"]: a["cn"] for a in parsed.icaljs_event(intervention.ical_uid)["attendees"]}
    assert names["mailto:cpe@college.example"] == "Jean “Jeannot” Dupont"
    assert names[f"mailto:{trainer.user.email}"] == "Camille “Cam” Martin"
    assert parsed.icaljs_event(intervention.ical_uid)["organizer"]["cn"] == "Coordination “Rhône” police"
    [vevent] = parsed.calendar.walk("VEVENT")
    assert "Jean “Jeannot” Dupont" in [a.params["CN"] for a in vevent["ATTENDEE"]]
    assert "Jean “Jeannot” Dupont" in [a.params["CN"][0] for a in parsed.vobject.vevent.attendee_list]
