"""A session's whole life as its invitations tell it, captured over real SMTP (issue #19, points 3 and 4):
confirmed → the room and the contact change → rescheduled → one trainer withdrawn → cancelled. Every calendar is
read by icalendar, vobject and ical.js (`calendars_of`), and each message follows RFC 5546: one UID, a SEQUENCE
that grows with every change, a CANCEL naming whom it removes, STATUS:CANCELLED only when the session is off."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import select

from app.domain import offers
from app.domain.clock import utcnow
from app.domain.mail import SmtpTransport, deliver_pending
from app.extensions import db
from app.models import Assignment, AssignmentStatus, Force, RequestEvent
from app.unit_of_work import run
from tests.factories import MONDAY_9, make_coordinator, make_qualified_trainer, make_session_in_planning
from tests.helpers import calendars_of, login, post_form, switch_to

SENDER = "Relais <no-reply@relais.example>"
CONTACT = "vie.scolaire@college.example"
NEW_CONTACT = "cpe@college.example"


def attendees(event) -> list[str]:
    found = event.get("ATTENDEE", [])
    return sorted(str(a).removeprefix("mailto:") for a in (found if isinstance(found, list) else [found]))


def delivered(smtp_server) -> list:
    smtp_server.handler.messages.clear()
    deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, utcnow())
    return smtp_server.handler.messages


def by_recipient(messages) -> dict:
    return {to: (subject, calendar, calendar.walk("VEVENT")[0]) for to, subject, calendar in calendars_of(messages)}


def text_of(messages, to: str) -> str:
    [message] = [m for m in messages if m["To"] == to and m.get_content_type() == "multipart/mixed"]
    return message.get_body(preferencelist=("plain",)).get_content()


def _confirmed_pair():
    intervention = make_session_in_planning(contact_email=CONTACT, wants_two_trainers=True)
    intervention.trainers_needed = 2
    first, second = make_qualified_trainer(), make_qualified_trainer(unit_km=3)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    for trainer in (first, second):  # through the unit of work, which writes the invitations
        assert run(lambda trainer=trainer: offers.assign_directly(
            db.session, intervention, trainer, MONDAY_9, MONDAY_9 + timedelta(hours=1), coordinator, utcnow())).ok
    return intervention, first, second, coordinator


def test_a_sessions_life_in_the_invitations(app, client, smtp_server):
    intervention, first, second, coordinator = _confirmed_pair()
    requester = intervention.request.created_by
    uid = intervention.ical_uid
    trainers = sorted([first.user.email, second.user.email])

    # Confirmed: both trainers and the contact are invited; the trainers' copies name both trainers.
    messages = delivered(smtp_server)
    for message in messages:  # RFC 5322 §3.6: a date, and a Message-ID under the sender's domain
        assert parsedate_to_datetime(message["Date"]).tzinfo is not None
        assert message["Message-ID"].endswith("@relais.example>")
    invited = by_recipient(messages)
    assert sorted(invited) == sorted([*trainers, CONTACT])
    sequence = invited[CONTACT][2]["SEQUENCE"]
    for _to, (_subject, calendar, event) in invited.items():
        assert str(calendar["METHOD"]) == "REQUEST" and str(event["UID"]) == uid
        assert str(event["STATUS"]) == "CONFIRMED"
    assert attendees(invited[first.user.email][2]) == sorted([*trainers, CONTACT])
    assert attendees(invited[CONTACT][2]) == [CONTACT], "the establishment does not get the officers' addresses"

    # The school moves the session to another room and names another contact: everyone invited hears of it.
    login(client, requester)
    page = f"/demandes/{intervention.request_id}/informations-pratiques"
    assert "est à venir" in client.get(page).get_data(as_text=True)
    response = post_form(client, page, {"room": "Salle polyvalente B12", "contact_name": "Mme Durand (CPE)",
                                        "contact_phone": "04 78 11 22 33", "contact_email": NEW_CONTACT})
    assert response.status_code == 302
    messages = delivered(smtp_server)
    updated = by_recipient(messages)
    assert sorted(updated) == sorted([*trainers, NEW_CONTACT, CONTACT])
    for to in [*trainers, NEW_CONTACT]:
        subject, calendar, event = updated[to]
        assert str(calendar["METHOD"]) == "REQUEST" and str(event["UID"]) == uid
        assert event["SEQUENCE"] == sequence + 1
        assert "Salle polyvalente B12" in str(event["LOCATION"])
        assert "Mme Durand (CPE)" in str(event["DESCRIPTION"])
    for to in trainers:
        assert updated[to][0].startswith("[Relais] Mise à jour : ")
        assert "Ce qui change : la salle, le contact sur place." in text_of(messages, to)
    assert updated[NEW_CONTACT][0].startswith("[Relais] Invitation : "), "new to them"
    assert "Ce qui change" not in text_of(messages, NEW_CONTACT), "nothing changed for a newcomer"
    assert updated[CONTACT][0] == f"[Relais] Vous n'êtes plus attendu : {intervention.request.establishment.name}"
    subject, calendar, event = updated[CONTACT]  # the former contact: taken out, the session goes on
    assert str(calendar["METHOD"]) == "CANCEL" and event["SEQUENCE"] == sequence + 1
    assert attendees(event) == [CONTACT] and str(event.get("STATUS")) != "CANCELLED"
    assert "n'êtes plus attendu" in text_of(messages, CONTACT)
    sequence += 1

    # Rescheduled by the coordination: an update at the new time, to those invited now.
    switch_to(client, coordinator)
    response = post_form(client, f"/propositions/interventions/{intervention.id}/horaire",
                         {"day": "2027-01-12", "start": "14:00"})
    assert response.status_code == 302
    rescheduled = by_recipient(delivered(smtp_server))
    assert sorted(rescheduled) == sorted([*trainers, NEW_CONTACT])
    for _subject, _calendar, event in rescheduled.values():
        assert event["SEQUENCE"] == sequence + 1
        assert event.decoded("DTSTART").strftime("%Y-%m-%d %H:%M %Z") == "2027-01-12 14:00 CET"
    sequence += 1

    # One trainer withdrawn: their CANCEL names them alone and the session is not called off; the others are
    # told who is left.
    assignment = db.session.scalar(select(Assignment).where(Assignment.intervention_id == intervention.id,
                                                            Assignment.trainer_id == second.id))
    response = post_form(client, f"/propositions/{assignment.id}/retirer", {"reason": "Mission prioritaire"})
    assert response.status_code == 302
    messages = delivered(smtp_server)
    withdrawn = by_recipient(messages)
    subject, calendar, event = withdrawn[second.user.email]
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["UID"]) == uid
    assert attendees(event) == [second.user.email], "a CANCEL that removes an attendee names that attendee"
    assert str(event.get("STATUS")) != "CANCELLED", "the session goes on without them"
    assert "n'êtes plus attendu" in text_of(messages, second.user.email)
    subject, calendar, event = withdrawn[first.user.email]
    assert str(calendar["METHOD"]) == "REQUEST" and attendees(event) == sorted([first.user.email, NEW_CONTACT])
    sequence = event["SEQUENCE"]

    # A replacement is assigned (confirmed again), then the whole session is cancelled: the CANCEL names every
    # person invited, with STATUS:CANCELLED.
    third = make_qualified_trainer(unit_km=5)
    db.session.commit()
    assert run(lambda: offers.assign_directly(db.session, intervention, third, intervention.starts_at,
                                              intervention.ends_at, coordinator, utcnow())).ok
    delivered(smtp_server)
    response = post_form(client, f"/coordination/demandes/{intervention.request_id}/annuler",
                         {"reason": "Fermeture exceptionnelle du collège"},
                         page=f"/coordination/demandes/{intervention.request_id}")
    assert response.status_code == 302
    cancelled = by_recipient(delivered(smtp_server))
    assert sorted(cancelled) == sorted([first.user.email, third.user.email, NEW_CONTACT])
    for _to, (_subject, calendar, event) in cancelled.items():
        assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == uid and event["SEQUENCE"] > sequence
    assert attendees(cancelled[first.user.email][2]) == sorted([first.user.email, third.user.email, NEW_CONTACT])
    assert attendees(cancelled[NEW_CONTACT][2]) == [NEW_CONTACT]


def test_notes_alone_change_no_calendar_but_leave_a_trace(app, client, smtp_server):
    intervention, first, second, coordinator = _confirmed_pair()
    delivered(smtp_server)
    request = intervention.request
    login(client, request.created_by)
    response = post_form(client, f"/demandes/{request.id}/informations-pratiques",
                         {"contact_name": request.contact_name, "contact_phone": request.contact_phone,
                          "contact_email": request.contact_email, "notes": "Parking côté gymnase."})
    assert response.status_code == 302
    assert delivered(smtp_server) == []
    assert request.notes == "Parking côté gymnase."
    assert db.session.scalar(select(RequestEvent).where(RequestEvent.request_id == request.id,
                                                        RequestEvent.kind == "details_changed")) is not None


def test_renaming_or_moving_the_establishment_updates_the_invitations(app, client, smtp_server):
    intervention, first, second, coordinator = _confirmed_pair()
    delivered(smtp_server)
    establishment = intervention.request.establishment
    login(client, intervention.request.created_by)
    response = post_form(client, "/etablissement/modifier",
                         {"name": "Collège Jean-Moulin", "address": "12 rue des Écoles", "phone": ""})
    assert response.status_code == 302
    messages = delivered(smtp_server)
    updated = by_recipient(messages)
    assert sorted(updated) == sorted([first.user.email, second.user.email, CONTACT])
    for _subject, calendar, event in updated.values():
        assert str(calendar["METHOD"]) == "REQUEST" and str(event["UID"]) == intervention.ical_uid
        assert "Collège Jean-Moulin" in str(event["LOCATION"]) and "12 rue des Écoles" in str(event["LOCATION"])
    assert "Ce qui change : le nom de l'établissement, l'adresse." in text_of(messages, first.user.email)

    # The coordination corrects the address again: a second update, one SEQUENCE higher.
    sequence = updated[CONTACT][2]["SEQUENCE"]
    switch_to(client, coordinator)
    response = post_form(client, f"/coordination/etablissements/{establishment.id}/modifier",
                         {"kind": establishment.kind.value, "name": "Collège Jean-Moulin",
                          "identifier": "0690002C", "address": "14 rue des Écoles",
                          "phone": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    again = by_recipient(delivered(smtp_server))
    assert sorted(again) == sorted([first.user.email, second.user.email, CONTACT])
    assert all(event["SEQUENCE"] == sequence + 1 and "14 rue des Écoles" in str(event["LOCATION"])
               for _, _, event in again.values())


def test_past_sessions_and_other_territories_are_left_alone(app, client, smtp_server):
    intervention, first, second, coordinator = _confirmed_pair()
    delivered(smtp_server)
    request = intervention.request
    outsider = make_coordinator("13", Force.POLICE)
    trainer_user = first.user
    db.session.commit()
    url = f"/demandes/{request.id}/informations-pratiques"
    login(client, outsider)
    assert client.get(url).status_code == 404
    switch_to(client, trainer_user)
    assert client.get(url).status_code == 403
    # A session that has begun is not sent again.
    intervention.starts_at = utcnow() - timedelta(hours=1)
    intervention.ends_at = utcnow()
    db.session.commit()
    switch_to(client, request.created_by)
    response = post_form(client, url, {"room": "Amphithéâtre", "contact_name": request.contact_name,
                                       "contact_phone": request.contact_phone, "contact_email": CONTACT})
    assert response.status_code == 302
    assert delivered(smtp_server) == []
    assert request.room == "Amphithéâtre"


def test_details_are_checked_and_closed_requests_refused(app, client, smtp_server):
    intervention, first, second, coordinator = _confirmed_pair()
    request = intervention.request
    login(client, request.created_by)
    url = f"/demandes/{request.id}/informations-pratiques"
    response = post_form(client, url, {"contact_name": "", "contact_phone": "abc", "contact_email": "pas-une-adresse"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Indiquez un contact." in html and "Numéro de téléphone invalide." in html
    assert "Adresse e-mail invalide." in html
    switch_to(client, coordinator)
    post_form(client, f"/coordination/demandes/{request.id}/annuler", {"reason": "Grève"},
              page=f"/coordination/demandes/{request.id}")
    response = client.get(url)
    assert response.status_code == 302
    assert request.status.value == "cancelled"
    assert db.session.scalar(select(Assignment.status).where(Assignment.trainer_id == first.id)) \
        is AssignmentStatus.WITHDRAWN
