"""Sessions written into a person's own CalDAV calendar (#19), against a real Radicale server on loopback: connecting
(and its refusals), each change of a session reaching the calendar once, the server down and back, the calendar
deleted, an event changed by its owner never overwritten silently, and the password never in a log."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain import caldav_push, lifecycle, offers
from app.domain.clock import utcnow
from app.domain.establishments import edit_details
from app.domain.refusals import Refused
from app.extensions import db
from app.models import Assignment, CalendarConnection, CalendarPush, ConnectionState, PushStatus
from app.unit_of_work import run
from tests.factories import MONDAY_9, make_coordinator, make_qualified_trainer, make_session_in_planning, make_user
from tests.radicale import PASSWORD, USER


def keys(app):
    return caldav_push.keys_from(app.config)


def connect(app, user, server, url=None, password=PASSWORD, username=USER):
    return run(lambda: caldav_push.connect(db.session, user, url or server.url, username, password, keys(app),
                                           utcnow(), allow_http=app.config["RELAIS_CALDAV_ALLOW_HTTP"], timeout=5))


def push(app):
    return caldav_push.push_due(db.session, utcnow(), keys(app), timeout=5)


@pytest.fixture
def confirmed(app, clock, radicale):
    """A session in planning, a trainer whose calendar is connected, and a function that confirms the session."""
    radicale.make_calendar()
    intervention = make_session_in_planning(contact_email="cpe@college.example")
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69")
    db.session.commit()
    assert connect(app, trainer.user, radicale).ok

    def confirm():
        outcome = run(lambda: offers.assign_directly(db.session, intervention, trainer, MONDAY_9,
                                                     MONDAY_9 + timedelta(hours=1), coordinator, utcnow()))
        assert outcome.ok, outcome.message()
    return intervention, trainer, coordinator, confirm


def only_event(radicale, uid):
    copies = radicale.events().get(uid, [])
    assert len(copies) == 1, f"{len(copies)} copies of {uid}"
    return next(iter(copies[0].walk("VEVENT")))


# Connecting


def test_connecting_finds_the_calendar_and_keeps_the_password_encrypted(app, clock, radicale):
    radicale.make_calendar(name="Mon travail")
    trainer = make_qualified_trainer()
    db.session.commit()
    outcome = connect(app, trainer.user, radicale)  # the server's address: the person's first calendar
    assert outcome.ok, outcome.message()
    connection = db.session.scalar(select(CalendarConnection))
    assert (connection.calendar_url, connection.calendar_name) == (radicale.calendar_url(), "Mon travail")
    assert PASSWORD not in connection.password_encrypted
    assert keys(app).decrypt(connection.password_encrypted.encode()).decode() == PASSWORD
    # The calendar's own address works too.
    assert connect(app, trainer.user, radicale, url=radicale.calendar_url()).ok
    assert db.session.scalar(select(func.count(CalendarConnection.id))) == 1


@pytest.mark.parametrize(("case", "code"), [
    ("password", "caldav_credentials"), ("address", "caldav_unreachable"), ("no calendar", "caldav_no_calendar"),
    ("not a calendar", "caldav_no_calendar"), ("credentials in the address", "caldav_address")])
def test_a_wrong_connection_is_refused_with_its_reason(app, clock, radicale, case, code):
    radicale.make_calendar()
    trainer = make_qualified_trainer()
    db.session.commit()
    if case == "password":
        outcome = connect(app, trainer.user, radicale, password="pas-le-bon")
    elif case == "address":
        closed = radicale.url.replace(str(radicale.port), str(radicale.port + 1 if radicale.port < 65535 else 1024))
        outcome = connect(app, trainer.user, radicale, url=closed)
    elif case == "no calendar":
        outcome = connect(app, trainer.user, radicale, username="sans-agenda", password="Mot2passe-vide")
    elif case == "not a calendar":
        outcome = connect(app, trainer.user, radicale, url=radicale.calendar_url("supprime"))
    else:
        outcome = connect(app, trainer.user, radicale, url=radicale.url.replace("http://", f"http://{USER}:x@"))
    assert outcome.refusal is not None and outcome.refusal.code == code
    assert db.session.scalar(select(func.count(CalendarConnection.id))) == 0


def test_an_address_in_clear_or_of_this_machine_is_refused_unless_allowed():
    for address, code in (("http://agenda.exemple.fr/dav/", "caldav_https"),
                          ("http://127.0.0.1:5232/", "caldav_https"), ("https://localhost/dav/", "caldav_address"),
                          ("https://127.0.0.1/dav/", "caldav_address"), ("https://[::1]/dav/", "caldav_address"),
                          ("https://169.254.169.254/latest/", "caldav_address")):
        with pytest.raises(Refused) as refused:
            caldav_push.check_address(address, allow_http=False)
        assert refused.value.code == code, address
        assert caldav_push.check_address(address, allow_http=True) == address  # a closed network, the tests
    assert caldav_push.check_address(" https://agenda.exemple.fr/dav/ ", allow_http=False) == \
        "https://agenda.exemple.fr/dav/"
    for wrong in ("agenda.exemple.fr", "ftp://agenda.exemple.fr/", "https://", "https://moi:secret@agenda.fr/"):
        with pytest.raises(Refused):
            caldav_push.check_address(wrong, allow_http=True)


def test_production_refuses_an_address_in_clear(app, clock, radicale):
    radicale.make_calendar()
    trainer = make_qualified_trainer()
    db.session.commit()
    outcome = run(lambda: caldav_push.connect(db.session, trainer.user, radicale.url, USER, PASSWORD, keys(app),
                                              utcnow(), allow_http=False, timeout=5))
    assert outcome.refusal.code == "caldav_https"


def test_coordinators_have_no_invitation_to_write(app, clock, radicale):
    radicale.make_calendar()
    coordinator = make_coordinator("69")
    db.session.commit()
    assert connect(app, coordinator, radicale).refusal.code == "caldav_not_invited"


# A session's life in the calendar


def test_a_session_s_whole_life_reaches_the_calendar_once(app, clock, radicale, confirmed):
    intervention, trainer, coordinator, confirm = confirmed
    confirm()
    row = db.session.scalar(select(CalendarPush))
    assert (row.action, row.status, row.uid) == ("put", PushStatus.PENDING, intervention.ical_uid)
    assert push(app).written == 1
    event = only_event(radicale, intervention.ical_uid)
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTART").astimezone(MONDAY_9.tzinfo) == MONDAY_9
    assert "ATTENDEE" not in event and "ORGANIZER" not in event  # no scheduling by the server
    stored = radicale.events()[intervention.ical_uid][0]
    assert "METHOD" not in stored
    assert db.session.get(CalendarConnection, row.connection_id).last_success_at == utcnow()
    first_sequence = event["SEQUENCE"]

    # Rescheduled: the same UID, the new time, a higher SEQUENCE.
    later = MONDAY_9 + timedelta(days=1, hours=2)
    assert run(lambda: offers.reschedule(db.session, intervention, later, later + timedelta(hours=1), coordinator,
                                         utcnow())).ok
    assert push(app).written == 1
    event = only_event(radicale, intervention.ical_uid)
    assert event.decoded("DTSTART").astimezone(later.tzinfo) == later
    db.session.refresh(intervention)
    assert event["SEQUENCE"] == intervention.ical_sequence > first_sequence

    # The establishment moves: the calendar says where.
    establishment = intervention.request.establishment
    assert run(lambda: edit_details(db.session, establishment, utcnow(), name="Collège Jean-Moulin",
                                    address="12 avenue des Tilleuls", phone=None, saturday_classes=False)).ok
    assert push(app).written == 1
    event = only_event(radicale, intervention.ical_uid)
    assert "12 avenue des Tilleuls" in str(event["LOCATION"]) and "Jean-Moulin" in str(event["SUMMARY"])

    # Cancelled: gone from the calendar.
    assert run(lambda: lifecycle.cancel_intervention(db.session, intervention, coordinator, "Grève", utcnow())).ok
    assert push(app).written == 1
    assert intervention.ical_uid not in radicale.events()
    assert push(app).written == 0  # nothing left to do
    assert db.session.scalar(select(func.count(CalendarPush.id))) == 1  # one row per session, ever


def test_a_withdrawn_trainer_s_calendar_drops_the_session(app, clock, radicale, confirmed):
    intervention, trainer, coordinator, confirm = confirmed
    confirm()
    push(app)
    assert intervention.ical_uid in radicale.events()
    assignment = db.session.scalar(select(Assignment).where(Assignment.trainer_id == trainer.id))
    assert run(lambda: offers.withdraw(db.session, assignment, coordinator, "Mutation", utcnow())).ok
    assert push(app).written == 1
    assert intervention.ical_uid not in radicale.events()


def test_changes_queued_before_the_worker_runs_are_written_once_the_latest(app, clock, radicale, confirmed):
    intervention, trainer, coordinator, confirm = confirmed
    confirm()
    later = MONDAY_9 + timedelta(hours=3)
    assert run(lambda: offers.reschedule(db.session, intervention, later, later + timedelta(hours=1), coordinator,
                                         utcnow())).ok
    row = db.session.scalar(select(CalendarPush))
    assert row.version == 2
    assert push(app).written == 1
    assert only_event(radicale, intervention.ical_uid).decoded("DTSTART").astimezone(later.tzinfo) == later


def test_the_server_down_in_the_middle_loses_nothing_and_doubles_nothing(app, clock, radicale, confirmed):
    intervention, trainer, coordinator, confirm = confirmed
    confirm()
    push(app)
    radicale.stop()
    later = MONDAY_9 + timedelta(hours=4)
    assert run(lambda: offers.reschedule(db.session, intervention, later, later + timedelta(hours=1), coordinator,
                                         utcnow())).ok
    outcome = push(app)
    assert (outcome.written, outcome.failed) == (0, 1)
    row = db.session.scalar(select(CalendarPush))
    connection = db.session.get(CalendarConnection, row.connection_id)
    assert row.status is PushStatus.PENDING and row.next_attempt_at > utcnow()
    assert connection.last_error == "unreachable" and connection.state is ConnectionState.ACTIVE
    assert push(app).written == 0  # not before its time (back-off)
    clock.advance(timedelta(minutes=2))
    assert push(app).failed == 1  # still down: tried again, later still
    radicale.start()
    assert push(app).written == 0
    clock.advance(timedelta(minutes=5))
    assert push(app).written == 1
    assert only_event(radicale, intervention.ical_uid).decoded("DTSTART").astimezone(later.tzinfo) == later
    db.session.refresh(connection)
    assert connection.last_success_at == utcnow()


def test_a_calendar_deleted_on_the_server_stops_the_push_until_connected_again(app, clock, radicale,
                                                                                confirmed):
    intervention, trainer, coordinator, confirm = confirmed
    radicale.delete_calendar()
    confirm()
    assert push(app).failed == 1
    connection = db.session.scalar(select(CalendarConnection))
    assert (connection.state, connection.last_error) == (ConnectionState.BROKEN, "calendar_gone")
    assert "n'existe plus" in caldav_push.error_message(connection.last_error)
    clock.advance(timedelta(hours=1))
    assert push(app).failed == 0  # a broken connection is left alone
    radicale.make_calendar("nouveau", "Nouveau")
    assert connect(app, trainer.user, radicale, url=radicale.calendar_url("nouveau")).ok
    db.session.expire_all()
    assert db.session.scalar(select(func.count(CalendarPush.id))) == 0  # another calendar: its queue starts afresh
    # …with the sessions to come, which the page queues on connecting.
    assert caldav_push.sessions_to_push(db.session, trainer.user, utcnow()) == [intervention]


def test_an_event_changed_by_its_owner_is_not_overwritten_until_they_say_so(app, clock, radicale, confirmed):
    intervention, trainer, coordinator, confirm = confirmed
    confirm()
    push(app)
    mine = radicale.event_resource(intervention.ical_uid)
    component = mine.icalendar_component
    component["SUMMARY"] = "Prévention — ne pas oublier le vidéoprojecteur"
    mine.save(increase_seqno=False)
    later = MONDAY_9 + timedelta(hours=5)
    assert run(lambda: offers.reschedule(db.session, intervention, later, later + timedelta(hours=1), coordinator,
                                         utcnow())).ok
    assert push(app).failed == 1
    event = only_event(radicale, intervention.ical_uid)
    assert "vidéoprojecteur" in str(event["SUMMARY"])  # not overwritten
    row = db.session.scalar(select(CalendarPush))
    assert row.status is PushStatus.CONFLICT
    connection = db.session.get(CalendarConnection, row.connection_id)
    assert connection.last_error == "conflict"
    assert caldav_push.problems(db.session, connection) == [row]
    clock.advance(timedelta(hours=1))
    assert push(app).written == 0  # it waits for its owner
    # They choose Relais's version.
    assert run(lambda: caldav_push.force(db.session, trainer.user, row.id, utcnow())).ok
    assert push(app).written == 1
    event = only_event(radicale, intervention.ical_uid)
    assert "vidéoprojecteur" not in str(event["SUMMARY"])
    assert event.decoded("DTSTART").astimezone(later.tzinfo) == later
    # Someone else cannot force it, nor a row that waits for nothing.
    other = make_user("trainer")
    db.session.commit()
    assert run(lambda: caldav_push.force(db.session, other, row.id, utcnow())).refusal.code == \
        "caldav_nothing_to_force"


def test_wrong_credentials_later_stop_the_push_until_connected_again(app, clock, radicale, confirmed):
    intervention, trainer, coordinator, confirm = confirmed
    connection = db.session.scalar(select(CalendarConnection))
    connection.password_encrypted = keys(app).encrypt(b"revoque").decode()
    db.session.commit()
    confirm()
    assert push(app).failed == 1
    db.session.refresh(connection)
    assert (connection.state, connection.last_error) == (ConnectionState.BROKEN, "credentials")
    assert connect(app, trainer.user, radicale).ok  # the same calendar: its queue goes out
    assert push(app).written == 1
    assert intervention.ical_uid in radicale.events()


def test_the_password_is_never_logged(app, clock, radicale, confirmed, caplog):
    caplog.set_level(logging.DEBUG)
    intervention, trainer, coordinator, confirm = confirmed
    assert connect(app, trainer.user, radicale, password="Mauvais-Secret-8812").refusal.code == "caldav_credentials"
    confirm()
    push(app)
    radicale.stop()
    assert run(lambda: lifecycle.cancel_intervention(db.session, intervention, coordinator, "Grève", utcnow())).ok
    push(app)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records and PASSWORD not in text and "Mauvais-Secret-8812" not in text


def test_nothing_is_queued_for_people_without_a_calendar(app, clock):
    intervention = make_session_in_planning(contact_email="cpe@college.example")
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69")
    db.session.commit()
    assert run(lambda: offers.assign_directly(db.session, intervention, trainer, MONDAY_9,
                                              MONDAY_9 + timedelta(hours=1), coordinator, utcnow())).ok
    assert db.session.scalar(select(func.count(CalendarPush.id))) == 0


def test_the_demo_shows_a_calendar_that_works_and_one_whose_server_is_down(app):
    from datetime import date

    from tests.factories import build_demo

    build_demo(7, date(2026, 11, 30))
    db.session.commit()
    connections = {c.user.email: c for c in db.session.scalars(select(CalendarConnection))}
    working, down = connections["formateur.pfad@relais.demo"], connections["formatrice.frad@relais.demo"]
    assert working.last_success_at is not None and working.last_error is None
    assert down.last_error == "unreachable" and down.state is ConnectionState.ACTIVE
    statuses = {row.status for row in db.session.scalars(select(CalendarPush).where(
        CalendarPush.connection_id == down.id))}
    assert statuses == {PushStatus.CONFLICT, PushStatus.PENDING}
    assert all(row.status is PushStatus.DONE for row in db.session.scalars(select(CalendarPush).where(
        CalendarPush.connection_id == working.id)))


def test_flask_tick_writes_the_changes_waiting(app, clock, radicale, confirmed, runner):
    intervention, trainer, coordinator, confirm = confirmed
    confirm()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "agendas-caldav: 1" in result.output
    assert intervention.ical_uid in radicale.events()
    assert "agendas-caldav: 0" in runner.invoke(args=["tick"]).output  # written once


def test_the_contact_s_calendar_gets_the_session_when_their_address_is_an_account(app, clock, radicale):
    radicale.make_calendar()
    intervention = make_session_in_planning(contact_email="cpe@college.example")
    contact = make_user("requester", email="cpe@college.example",
                        establishment_id=intervention.request.establishment_id)
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69")
    db.session.commit()
    assert connect(app, contact, radicale).ok
    assert run(lambda: offers.assign_directly(db.session, intervention, trainer, MONDAY_9,
                                              MONDAY_9 + timedelta(hours=1), coordinator, utcnow())).ok
    assert push(app).written == 1
    event = only_event(radicale, intervention.ical_uid)
    assert "Brigadier" in str(event["DESCRIPTION"])  # the establishment's view: the trainers named, no addresses
