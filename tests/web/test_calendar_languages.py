"""Calendars in the reader's language (#19): an invitation in its recipient's, a feed in its owner's (its kept
events and its ETag per language), a download and an export in the page's; and a format version of the kept
events, so that a deployment that writes events otherwise rebuilds every kept one.

The English catalogue is completed at the end of the issue: the tests compare with what the catalogue says in
English (`english(...)`) and check on labels already translated (an audience, « Groupe N ») that the builds differ."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from app.domain import feeds
from app.domain.calendar import EVENT_FORMAT, summary
from app.domain.clock import utcnow
from app.domain.mail import SmtpTransport, deliver_pending
from app.domain.vocabulary import audience_label
from app.extensions import db
from app.invitations import organizer_for, session_url
from app.models import CalendarEntry, Force, Role, User
from app.unit_of_work import run
from tests.factories import (
    MONDAY_9,
    make_confirmed_session,
    make_coordinator,
    make_qualified_trainer,
    make_session_in_planning,
    make_user,
)
from tests.helpers import assert_parses_everywhere, calendars_of, login, switch_to
from tests.web.test_calendars import feed_url_of

SENDER = "Relais <no-reply@relais.example>"


def english(function, *args, **values) -> str:
    with force_locale("en"):
        return str(function(*args, **values))


def french(function, *args, **values) -> str:
    with force_locale("fr"):
        return str(function(*args, **values))


def labels(language: str) -> tuple[str, str]:
    """The session's audience (make_request's « Élèves de 4e ») and group in a language: both already translated."""
    with force_locale(language):
        return audience_label("4e"), gettext("Groupe %(number)s", number=1)


def assert_in_language(event, language: str) -> None:
    other = "fr" if language == "en" else "en"
    description = str(event["DESCRIPTION"])
    for label, foreign in zip(labels(language), labels(other), strict=True):
        assert label in description and foreign not in description, (label, foreign, description)


def two_trainers_of_one_session():
    """A session of the Rhône staffed through the unit of work (which writes the invitations) by a trainer who
    reads English and one who reads French."""
    from app.domain import offers

    intervention = make_session_in_planning(contact_email="vie.scolaire@college.example")
    intervention.trainers_needed = 2
    reader, lecteur = make_qualified_trainer(), make_qualified_trainer(unit_km=3)
    reader.user.language = "en"
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    for trainer in (reader, lecteur):
        assert run(lambda trainer=trainer: offers.assign_directly(
            db.session, intervention, trainer, MONDAY_9, MONDAY_9 + timedelta(hours=1), coordinator, utcnow())).ok
    return intervention, reader, lecteur, coordinator


def test_an_invitation_is_written_in_its_recipients_language(app, smtp_server):
    assert labels("en") != labels("fr"), "the English catalogue translates the labels these tests rely on"
    intervention, reader, lecteur, _ = two_trainers_of_one_session()
    deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, utcnow())
    received = {to: calendar for to, _, calendar in calendars_of(smtp_server.handler.messages)}
    assert {reader.user.email, lecteur.user.email, "vie.scolaire@college.example"} <= set(received)

    [event] = received[reader.user.email].walk("VEVENT")
    assert str(event["SUMMARY"]) == english(summary, intervention)
    assert_in_language(event, "en")
    [alarm] = event.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == english(gettext, "Demain : %(summary)s", summary=english(summary, intervention))
    for language, address in (("fr", lecteur.user.email), ("fr", "vie.scolaire@college.example")):
        [event] = received[address].walk("VEVENT")
        assert str(event["SUMMARY"]) == french(summary, intervention)
        assert_in_language(event, language)


def test_a_feed_is_written_in_its_owners_language_and_kept_per_language(app, client, clock):
    intervention, reader, lecteur, _ = two_trainers_of_one_session()
    login(client, reader.user)
    english_url = feed_url_of(client)
    switch_to(client, lecteur.user)
    french_url = feed_url_of(client)
    anonymous = app.test_client()  # a calendar application: no session, no language of its own

    english_feed, french_feed = anonymous.get(english_url), anonymous.get(french_url)
    assert english_feed.status_code == french_feed.status_code == 200
    read = {language: assert_parses_everywhere(response.data).calendar
            for language, response in (("en", english_feed), ("fr", french_feed))}
    for language, calendar in read.items():
        [event] = calendar.walk("VEVENT")
        assert_in_language(event, language)
    with app.test_request_context():
        assert str(read["en"]["X-WR-CALNAME"]) == english(gettext, "Relais — mes interventions")
        assert str(read["fr"]["X-WR-CALNAME"]) == "Relais — mes interventions"

    # One session, one reader variant, two languages: two kept events, each served again from the cache.
    kept = db.session.execute(select(CalendarEntry.variant, CalendarEntry.language)
                              .where(CalendarEntry.intervention_id == intervention.id)).all()
    assert sorted(kept) == [("formateur", "en"), ("formateur", "fr")]
    assert anonymous.get(english_url).data == english_feed.data

    # Same sessions, same day, same filters: only the language tells the two tags apart, and the tag of one
    # language never answers 304 for the other.
    assert english_feed.headers["ETag"] != french_feed.headers["ETag"]
    assert anonymous.get(english_url, headers={"If-None-Match": french_feed.headers["ETag"]}).status_code == 200
    assert anonymous.get(english_url, headers={"If-None-Match": english_feed.headers["ETag"]}).status_code == 304

    # The owner switches to French: their calendar application's tag no longer matches, the feed comes in French.
    db.session.execute(update(User).where(User.id == reader.user_id).values(language="fr"))
    db.session.commit()
    now_french = anonymous.get(english_url, headers={"If-None-Match": english_feed.headers["ETag"]})
    assert now_french.status_code == 200 and now_french.headers["ETag"] == french_feed.headers["ETag"]
    [event] = assert_parses_everywhere(now_french.data).calendar.walk("VEVENT")
    assert_in_language(event, "fr")


def test_an_establishments_feed_is_french_unless_all_its_members_read_english(app, client, clock):
    intervention, trainer, _ = make_confirmed_session()
    establishment = intervention.request.establishment
    members = db.session.scalars(select(User).where(User.establishment_id == establishment.id)).all()
    assert members
    colleague = make_user(Role.REQUESTER, establishment_id=establishment.id, language="en")
    db.session.commit()
    assert feeds.establishment_language(db.session, establishment.id) == "fr", "one member reads French"

    for member in members:
        member.language = "en"
    db.session.commit()
    assert feeds.establishment_language(db.session, establishment.id) == "en"
    login(client, colleague)
    response = app.test_client().get(feed_url_of(client))
    [event] = assert_parses_everywhere(response.data).calendar.walk("VEVENT")
    assert_in_language(event, "en")

    colleague.active = False  # a member who left does not choose for the others
    members[0].language = "fr"
    db.session.commit()
    assert feeds.establishment_language(db.session, establishment.id) == "fr"


def test_a_download_and_an_export_are_in_the_language_of_the_page(app, client, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    trainer.user.language = "en"
    coordinator.language = "en"
    db.session.commit()
    login(client, trainer.user)
    download = client.get(f"/calendrier/interventions/{intervention.id}.ics")
    assert download.status_code == 200
    [event] = assert_parses_everywhere(download.data).calendar.walk("VEVENT")
    assert_in_language(event, "en")

    switch_to(client, coordinator)
    export = client.get("/calendrier/export", query_string={
        "date_from": "2027-01-01", "date_to": "2027-01-31", "statuses": ["confirmed", "done"], "format": "ics"})
    assert export.status_code == 200
    calendar = assert_parses_everywhere(export.data).calendar
    [event] = calendar.walk("VEVENT")
    assert_in_language(event, "en")
    with app.test_request_context():
        assert str(calendar["X-WR-CALNAME"]) == english(gettext, "Relais — export")

    coordinator.language = "fr"
    db.session.commit()
    switch_to(client, coordinator)
    export = client.get("/calendrier/export", query_string={
        "date_from": "2027-01-01", "date_to": "2027-01-31", "statuses": ["confirmed", "done"], "format": "ics"})
    [event] = assert_parses_everywhere(export.data).calendar.walk("VEVENT")
    assert_in_language(event, "fr")


def _build(trainer, now):
    feed = feeds.feed_of(db.session, app_secret(), user=trainer.user)
    source = feeds.feed_source(db.session, feed, now, "salt")
    body, built = feeds.build_feed(db.session, source.rows(), name=source.name, salt="salt", url_for=session_url,
                                   organizer_for=organizer_for, zone=source.zone(), language=source.language)
    db.session.commit()
    return body, built


def app_secret() -> str:
    from flask import current_app

    return current_app.config["SECRET_KEY"]


def test_a_kept_event_written_in_another_format_is_rebuilt(app, clock, monkeypatch):
    intervention, trainer, _ = make_confirmed_session()
    now = clock.now()
    stale = f"BEGIN:VEVENT\r\nUID:{intervention.ical_uid}\r\nSUMMARY:written the old way\r\nEND:VEVENT\r\n"
    with app.test_request_context():
        monkeypatch.setattr(feeds, "EVENT_FORMAT", EVENT_FORMAT - 1)  # what the previous deployment wrote
        assert _build(trainer, now)[1] == 1
        db.session.execute(update(CalendarEntry).values(vevent=stale))
        db.session.commit()
        body, built = _build(trainer, now)
        assert built == 0 and b"written the old way" in body, "same format: the kept event is served as it is"

        monkeypatch.setattr(feeds, "EVENT_FORMAT", EVENT_FORMAT)  # the deployment: events are written otherwise
        body, built = _build(trainer, now)
        assert built == 1 and b"written the old way" not in body
        [event] = assert_parses_everywhere(body).calendar.walk("VEVENT")
        assert str(event["SUMMARY"]) == french(summary, intervention)
        assert _build(trainer, now)[1] == 0, "rebuilt once, then kept"


def test_the_demo_has_a_trainer_whose_calendars_are_in_english(app):
    """`flask demo-data`: a colleague of the PFAD demo trainer reads English; their feed says so, the PFAD's is
    French."""
    from datetime import UTC, date, datetime

    from tests.factories import build_demo

    today = date(2026, 11, 30)
    build_demo(7, today)
    db.session.commit()
    now = datetime(today.year, today.month, today.day, 8, tzinfo=UTC)
    readers = db.session.scalars(select(User).where(User.role == Role.TRAINER, User.language == "en")).all()
    assert len(readers) == 1
    with app.test_request_context():
        for user, language in ((readers[0], "en"), (User.by_email("formateur.pfad@relais.demo"), "fr")):
            feed = feeds.feed_of(db.session, app_secret(), user=user)
            source = feeds.feed_source(db.session, feed, now, "salt")
            assert source.language == language
            body, built = feeds.build_feed(db.session, source.rows(), name=source.name, salt="salt",
                                           url_for=session_url, organizer_for=organizer_for, zone=source.zone(),
                                           language=source.language)
            events = assert_parses_everywhere(body).calendar.walk("VEVENT")
            assert built >= 1 and events, "sessions in their calendar"
            # « Groupe 2 » is « Group 2 » in English, in the SUMMARY and the DESCRIPTION of every session.
            with force_locale(language):
                group = re.escape(gettext("Groupe %(number)s", number=0)).replace("0", r"\d+")
            with force_locale("fr" if language == "en" else "en"):
                other = re.escape(gettext("Groupe %(number)s", number=0)).replace("0", r"\d+")
            for event in events:
                text = f"{event['SUMMARY']}\n{event['DESCRIPTION']}"
                assert re.search(rf"\b{group}\b", text) and not re.search(rf"\b{other}\b", text), text
