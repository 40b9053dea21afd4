"""Invitations end to end over real SMTP: confirm → reschedule → cancel, then an SMTP outage."""

from __future__ import annotations

from datetime import timedelta

from aiosmtpd.controller import Controller

from app.domain.mail import SmtpTransport, deliver_pending
from app.extensions import db
from app.models import Force
from tests.factories import make_coordinator, make_qualified_trainer, make_session_in_planning
from tests.helpers import RecordingHandler, calendars_of, login, offer_by_coordinator, post_form, with_calendar

SENDER = "Relais <no-reply@relais.localhost>"
CONTACT = "vie.scolaire@college.example"


def attendees(event) -> list:
    found = event.get("ATTENDEE", [])
    return found if isinstance(found, list) else [found]


def deliver(smtp_server, clock) -> tuple[int, int]:
    return deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, clock.now())


def _confirmed_by_web(client, clock):
    intervention = make_session_in_planning(contact_email=CONTACT)
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    offer_by_coordinator(client, intervention, trainer, assign=True)
    return intervention, trainer


def test_confirm_reschedule_cancel_arrive_as_request_request_cancel(app, client, clock, smtp_server):
    intervention, trainer = _confirmed_by_web(client, clock)
    # The trainer and the contact get the invitation; the author of the request a plain notice.
    assert deliver(smtp_server, clock) == (3, 0)
    author = intervention.request.created_by.email
    notices = [m for m in smtp_server.handler.messages if m not in with_calendar(smtp_server.handler.messages)]
    assert [m["To"] for m in notices] == [author]
    confirm = calendars_of(smtp_server.handler.messages)
    assert [to for to, _, _ in confirm] == sorted([trainer.user.email, CONTACT])
    uid = intervention.ical_uid
    for to, subject, calendar in confirm:
        [event] = calendar.walk("VEVENT")
        assert str(calendar["METHOD"]) == "REQUEST" and subject.startswith("[Relais] Invitation : ")
        assert str(event["UID"]) == uid and event["SEQUENCE"] == 1 and str(event["STATUS"]) == "CONFIRMED"
        assert f"mailto:{to}" in [str(a) for a in attendees(event)], "each recipient is an attendee"
    trainer_event = dict((to, c) for to, _, c in confirm)[trainer.user.email].walk("VEVENT")[0]
    partstat = {str(a): a.params["PARTSTAT"] for a in attendees(trainer_event)}
    assert partstat[f"mailto:{trainer.user.email}"] == "ACCEPTED"

    # Rescheduled to the Tuesday at 14:00, local time.
    smtp_server.handler.messages.clear()
    response = post_form(client, f"/propositions/interventions/{intervention.id}/horaire",
                         {"day": "2027-01-12", "start": "14:00"})
    assert response.status_code == 302
    assert deliver(smtp_server, clock) == (2, 0)
    for _, subject, calendar in calendars_of(smtp_server.handler.messages):
        [event] = calendar.walk("VEVENT")
        assert subject.startswith("[Relais] Mise à jour : ")
        assert str(calendar["METHOD"]) == "REQUEST" and str(event["UID"]) == uid and event["SEQUENCE"] == 2
        assert event.decoded("DTSTART").strftime("%Y-%m-%d %H:%M %Z") == "2027-01-12 14:00 CET"

    # Cancelled: the same UID, a higher SEQUENCE, removed from both calendars.
    smtp_server.handler.messages.clear()
    response = post_form(client, f"/coordination/demandes/{intervention.request_id}/annuler",
                         {"reason": "Fermeture exceptionnelle du collège"},
                         page=f"/coordination/demandes/{intervention.request_id}")
    assert response.status_code == 302
    assert deliver(smtp_server, clock) == (3, 0)  # the two cancellations, and the author's notice
    cancelled = calendars_of(smtp_server.handler.messages)
    assert [to for to, _, _ in cancelled] == sorted([trainer.user.email, CONTACT])
    for _, subject, calendar in cancelled:
        [event] = calendar.walk("VEVENT")
        assert str(calendar["METHOD"]) == "CANCEL" and subject.startswith("[Relais] Annulation : ")
        assert str(event["UID"]) == uid and event["SEQUENCE"] == 3 and str(event["STATUS"]) == "CANCELLED"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_smtp_outage_loses_nothing_and_sends_nothing_twice(app, client, clock):
    _confirmed_by_web(client, clock)
    port = _free_port()
    before, after = RecordingHandler(), RecordingHandler()
    relay = Controller(before, hostname="127.0.0.1", port=port)
    relay.start()
    transport = SmtpTransport("127.0.0.1", port, timeout=2)
    try:
        assert deliver_pending(db.session, transport, SENDER, clock.now(), limit=1) == (1, 0)
    finally:
        relay.stop()  # the relay goes down after the first message
    assert deliver_pending(db.session, transport, SENDER, clock.now()) == (0, 2)
    assert deliver_pending(db.session, transport, SENDER, clock.now()) == (0, 0), "backing off, not hammering"
    relay = Controller(after, hostname="127.0.0.1", port=port)
    relay.start()
    try:
        clock.advance(timedelta(hours=1))
        assert deliver_pending(db.session, transport, SENDER, clock.now()) == (2, 0)
        assert deliver_pending(db.session, transport, SENDER, clock.now()) == (0, 0)
    finally:
        relay.stop()
    received = [m["To"] for m in before.messages + after.messages]
    assert len(received) == 3 and len(set(received)) == 3, "each message once, none lost"
    assert len(calendars_of(before.messages + after.messages)) == 2
