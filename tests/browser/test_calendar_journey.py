"""In Chromium: a coordinator confirms, reschedules and cancels a session; the SMTP server receives
REQUEST, REQUEST (SEQUENCE+1) and CANCEL, and the trainer's subscribed feed says the same."""

from __future__ import annotations

import urllib.request

import pytest
from icalendar import Calendar

from app.domain.mail import SmtpTransport, deliver_pending
from app.extensions import db
from app.models import Force
from tests.browser.helpers import assert_accessible, log_in
from tests.factories import PASSWORD, make_coordinator, make_qualified_trainer, make_session_in_planning
from tests.helpers import calendars_of

pytestmark = pytest.mark.browser


def delivered(smtp_server, clock) -> list:
    smtp_server.handler.messages.clear()
    deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), "Relais <no-reply@relais.localhost>",
                    clock.now())
    return calendars_of(smtp_server.handler.messages)


def feed_event(url: str, uid: str):
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url) as response:  # noqa: S310 (the live test server, as a calendar client)
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        calendar = Calendar.from_ical(response.read())
    return next(e for e in calendar.walk("VEVENT") if str(e["UID"]) == uid)


def test_confirm_reschedule_cancel_reach_mailboxes_and_feeds(app, clock, browser, live_server, page, smtp_server):
    intervention = make_session_in_planning(contact_email="vie.scolaire@college.example")
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    uid = intervention.ical_uid

    # The trainer subscribes: their personal feed address, from their "Mon agenda" page.
    trainer_context = browser.new_context(base_url=live_server, locale="fr-FR")
    trainer_page = trainer_context.new_page()
    log_in(trainer_page, trainer.user.email, PASSWORD)
    trainer_page.get_by_role("link", name="Mon agenda", exact=True).click()
    assert_accessible(trainer_page)
    https = trainer_page.get_by_label("Adresse web (Google Agenda, autres)").input_value()
    feed_url = live_server + https.split("127.0.0.1:5000", 1)[1]

    # Confirm: the coordinator assigns the trainer directly.
    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/coordination/demandes/{intervention.request_id}")
    page.get_by_role("link", name=f"Formateurs possibles — {intervention.group_label}").click()
    row = page.get_by_role("row").filter(has_text=trainer.full_name)
    row.get_by_role("button", name="Affecter directement").click()
    page.wait_for_url(f"**/coordination/demandes/{intervention.request_id}")
    sent = delivered(smtp_server, clock)
    assert [(str(c["METHOD"]), c.walk("VEVENT")[0]["SEQUENCE"]) for _, _, c in sent] == [("REQUEST", 1)] * 2
    assert feed_event(feed_url, uid)["SEQUENCE"] == 1

    # Reschedule to Tuesday 10:30.
    page.get_by_role("link", name=f"Changer l'horaire — {intervention.group_label}").click()
    assert_accessible(page)
    page.get_by_label("Nouvelle date").fill("2027-01-12")
    page.get_by_label("Heure de début").fill("10:30")
    page.get_by_role("button", name="Changer l'horaire").click()
    page.wait_for_url(f"**/coordination/demandes/{intervention.request_id}")
    assert "Horaire modifié" in page.content()
    sent = delivered(smtp_server, clock)
    assert [(str(c["METHOD"]), c.walk("VEVENT")[0]["SEQUENCE"]) for _, _, c in sent] == [("REQUEST", 2)] * 2
    event = feed_event(feed_url, uid)
    assert event["SEQUENCE"] == 2 and event.decoded("DTSTART").strftime("%d/%m %H:%M") == "12/01 10:30"

    # Cancel the request: the same UID goes out as CANCEL, and the feed shows it cancelled.
    page.get_by_label("Motif de l'annulation").fill("Grève des transports scolaires")
    page.get_by_role("button", name="Annuler la demande").click()
    page.wait_for_url(f"**/coordination/demandes/{intervention.request_id}")
    sent = delivered(smtp_server, clock)
    assert [(str(c["METHOD"]), c.walk("VEVENT")[0]["SEQUENCE"]) for _, _, c in sent] == [("CANCEL", 3)] * 2
    event = feed_event(feed_url, uid)
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 3
    trainer_context.close()
