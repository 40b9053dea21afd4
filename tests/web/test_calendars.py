"""Feeds (tokens, conditional requests, what each subscriber sees), single events and exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from app.domain import feeds, offers
from app.extensions import db
from app.invitations import organizer_for, session_url
from app.models import CalendarFeed, Force, Role
from tests.factories import (
    MONDAY_9,
    make_confirmed_session,
    make_coordinator,
    make_qualified_trainer,
    make_session_in_planning,
    make_user,
)
from tests.helpers import count_queries, login, post_form, switch_to


def feed_url_of(client) -> str:
    html = client.get("/calendrier/").get_data(as_text=True)
    https = re.search(r'id="adresse-https" type="text" readonly value="([^"]+)"', html).group(1)
    webcal = re.search(r'id="adresse-webcal" type="text" readonly value="([^"]+)"', html).group(1)
    assert webcal == "webcal://" + https.split("://", 1)[1]
    return https.split("127.0.0.1:5000", 1)[1] if "127.0.0.1:5000" in https else https


def events(response) -> dict[str, object]:
    calendar = Calendar.from_ical(response.data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_trainer_feed_conditional_requests_and_reset(app, client, clock):
    intervention, trainer, _ = make_confirmed_session()
    login(client, trainer.user)
    url = feed_url_of(client)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 43, "at least 256 bits, URL-safe"
    stored = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == trainer.user_id))
    assert stored.token_hash != token and token not in stored.nonce

    anonymous = app.test_client()
    response = anonymous.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == "Relais — mes interventions" and "REFRESH-INTERVAL" in calendar
    assert str(events(response)[intervention.ical_uid]["STATUS"]) == "CONFIRMED"
    etag = response.headers["ETag"]
    assert anonymous.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert anonymous.get(url, headers={"If-Modified-Since": response.headers["Last-Modified"]}).status_code == 304

    # A change makes the tag change.
    clock.advance(timedelta(minutes=5))
    offers.reschedule(db.session, intervention, MONDAY_9 + timedelta(hours=1), MONDAY_9 + timedelta(hours=2),
                      make_user(Role.ADMIN), clock.now())
    db.session.commit()
    changed = anonymous.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert events(changed)[intervention.ical_uid]["SEQUENCE"] == 2

    post_form(client, "/calendrier/reinitialiser", {}, page="/calendrier/")
    assert anonymous.get(url).status_code == 404, "the old address stops working at once"
    assert anonymous.get(feed_url_of(client)).status_code == 200
    assert anonymous.get("/calendrier/flux/pas-un-jeton.ics").status_code == 404


def test_the_subscription_addresses_are_labelled_by_what_they_are_not_by_a_scheme(app, client, clock):
    """The address for Google and the others is the one RELAIS_BASE_URL gives: never labelled "https" while
    showing http, and a server without https says what it means for online calendars."""
    _, trainer, _ = make_confirmed_session()
    login(client, trainer.user)
    html = client.get("/calendrier/").get_data(as_text=True)
    assert "Adresse https" not in html and "Adresse web (Google Agenda, autres)" in html
    assert "Adresse d'abonnement (Apple Calendrier, Outlook, Thunderbird)" in html
    assert 'readonly value="http://127.0.0.1:5000/' in html and "n'est pas configuré en https" in html
    app.config["RELAIS_BASE_URL"] = "https://relais.example"
    html = client.get("/calendrier/").get_data(as_text=True)
    assert 'id="adresse-https" type="text" readonly value="https://relais.example/' in html
    assert 'id="adresse-webcal" type="text" readonly value="webcal://relais.example/' in html
    assert "n'est pas configuré en https" not in html


def test_admin_replaces_every_address(app, client, clock):
    _, trainer, coordinator = make_confirmed_session()
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(client, trainer.user)
    old = feed_url_of(client)
    switch_to(client, admin)
    response = post_form(client, "/calendrier/tous/reinitialiser", {}, page="/calendrier/")
    assert response.status_code == 302
    assert app.test_client().get(old).status_code == 404


def test_each_subscriber_sees_what_they_may_and_cancellations_stay_a_while(app, client, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    requester = intervention.request.created_by
    login(client, requester)
    establishment_url = feed_url_of(client)
    switch_to(client, coordinator)
    coordination_url = feed_url_of(client)
    outsider = make_coordinator("13", Force.POLICE)
    db.session.commit()
    switch_to(client, outsider)
    outsider_url = feed_url_of(client)
    anonymous = app.test_client()

    establishment_feed = anonymous.get(establishment_url)
    assert intervention.ical_uid in events(establishment_feed)
    assert trainer.user.email.encode() not in establishment_feed.data, "no officer address for an establishment"
    assert trainer.user.email.encode() in anonymous.get(coordination_url).data
    assert intervention.ical_uid not in events(anonymous.get(outsider_url)), "another département's feed"

    # Withdrawn from the session: it shows as cancelled in the trainer's feed for 30 days, then goes.
    assignment = intervention.assignments[0]
    offers.withdraw(db.session, assignment, coordinator, "Mutation", clock.now())
    db.session.commit()
    switch_to(client, trainer.user)
    trainer_url = feed_url_of(client)
    assert str(events(anonymous.get(trainer_url))[intervention.ical_uid]["STATUS"]) == "CANCELLED"
    clock.advance(timedelta(days=31))
    assert intervention.ical_uid not in events(anonymous.get(trainer_url))


def test_feeds_rebuild_only_the_sessions_that_changed(app, clock):
    first, trainer, coordinator = make_confirmed_session()
    second = make_session_in_planning()
    offers.assign_directly(db.session, second, trainer, MONDAY_9 + timedelta(days=1),
                           MONDAY_9 + timedelta(days=1, hours=1), coordinator, clock.now())
    db.session.commit()
    rows = feeds.trainer_rows(db.session, trainer.id, clock.now())
    with app.test_request_context():
        build = lambda: feeds.build_feed(db.session, feeds.trainer_rows(db.session, trainer.id, clock.now()),  # noqa: E731
                                         name="test", salt="s", url_for=session_url, organizer_for=organizer_for)
        body, built = build()
        assert built == 2 and len(rows) == 2
        db.session.commit()
        again, built = build()
        assert built == 0 and again == body, "nothing changed: served from the kept VEVENTs"
        offers.reschedule(db.session, first, MONDAY_9 + timedelta(hours=2), MONDAY_9 + timedelta(hours=3),
                          coordinator, clock.now() + timedelta(minutes=1))
        db.session.commit()
        _, built = build()
        assert built == 1


def test_add_to_my_calendar_is_only_for_those_concerned(app, client, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    url = f"/calendrier/interventions/{intervention.id}.ics"
    login(client, trainer.user)
    response = client.get(url)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert intervention.ical_uid in events(response)
    assert "METHOD" not in Calendar.from_ical(response.data)
    other = make_qualified_trainer()
    db.session.commit()
    switch_to(client, other.user)
    assert client.get(url).status_code == 404


def test_coordinator_exports_filtered_ics_and_csv(app, client, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    login(client, coordinator)
    assert "Exporter le planning" in client.get("/calendrier/export").get_data(as_text=True)
    base = {"date_from": "2027-01-01", "date_to": "2027-01-31", "statuses": ["confirmed", "done"]}
    ics = client.get("/calendrier/export", query_string={**base, "format": "ics"})
    assert ics.status_code == 200 and intervention.ical_uid in events(ics)
    spreadsheet = client.get("/calendrier/export", query_string={**base, "format": "csv"}).get_data(as_text=True)
    assert spreadsheet.startswith("\ufeff"), "a BOM: French Excel reads the accents as UTF-8"
    rows = list(csv.reader(io.StringIO(spreadsheet.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["date", "début", "fin"]
    assert rows[1][:3] == ["11/01/2027", "09:00", "10:00"] and trainer.matricule in rows[1]
    assert len(rows) == 2
    other_trainer = client.get("/calendrier/export", query_string={**base, "format": "csv", "trainer": "000000"})
    assert len(list(csv.reader(io.StringIO(other_trainer.get_data(as_text=True)), delimiter=";"))) == 1
    only_cancelled = client.get("/calendrier/export", query_string={**base, "format": "ics",
                                                                      "statuses": ["cancelled"]})
    assert events(only_cancelled) == {}
    bad = client.get("/calendrier/export", query_string={**base, "format": "csv", "statuses": []})
    assert bad.status_code == 400 and "Choisissez au moins un état." in bad.get_data(as_text=True)


def test_export_ics_command(app, runner, clock, tmp_path):
    intervention, trainer, _ = make_confirmed_session()
    output = tmp_path / "planning.ics"
    result = runner.invoke(args=["export-ics", "--departement", "69", "--from", "2027-01-11", "--to", "2027-01-11",
                                 "--trainer", trainer.matricule, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "1 intervention(s) exportée(s)" in result.output
    assert intervention.ical_uid in {str(e["UID"]) for e in Calendar.from_ical(output.read_bytes()).walk("VEVENT")}
    later = runner.invoke(args=["export-ics", "--from", "2027-01-12", "--output", str(output)])
    assert "0 intervention(s)" in later.output


def test_a_scope_feed_answers_304_from_one_aggregate(app, client, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    login(client, coordinator)
    url = feed_url_of(client)
    anonymous = app.test_client()
    first = anonymous.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    with count_queries() as statements:
        assert anonymous.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert len(statements) <= 4, "the token, the user, the aggregate: not the sessions"
    assert anonymous.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    clock.advance(timedelta(minutes=1))
    offers.reschedule(db.session, intervention, MONDAY_9 + timedelta(hours=3), MONDAY_9 + timedelta(hours=4),
                      coordinator, clock.now())
    db.session.commit()
    changed = anonymous.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_after_a_key_rotation_the_shown_address_works_and_the_old_one_does_not(app, client, clock):
    _, trainer, _ = make_confirmed_session()
    feed = feeds.feed_of(db.session, app.config["SECRET_KEY"], user=trainer.user)
    db.session.commit()
    old = f"/calendrier/flux/{feeds.feed_token(app.config['SECRET_KEY'], feed.nonce)}.ics"
    assert client.get(old).status_code == 200
    app.config["SECRET_KEY"] = "a-new-secret-key-after-rotation"
    # What the "Mon agenda" page does: it shows the address derived from the current key.
    feed = feeds.feed_of(db.session, app.config["SECRET_KEY"], user=trainer.user)
    db.session.commit()
    new = f"/calendrier/flux/{feeds.feed_token(app.config['SECRET_KEY'], feed.nonce)}.ics"
    assert client.get(new).status_code == 200 and client.get(old).status_code == 404


def subscribed_trainer(app, client):
    """A confirmed session, its trainer's feed address, a calendar application reading it, its first answer."""
    intervention, trainer, _ = make_confirmed_session()
    login(client, trainer.user)
    url = feed_url_of(client)
    calendar_app = app.test_client()
    return intervention, trainer, url, calendar_app, calendar_app.get(url)


def test_a_renamed_trainer_is_renamed_in_the_feeds(app, client, clock):
    from app.domain.imports.trainers import export_trainers, import_trainers, read_table
    from app.models import Trainer

    intervention, trainer, url, anonymous, first = subscribed_trainer(app, client)
    assert "Formateurs : " + f"{trainer.rank} {trainer.full_name}" in str(
        events(first)[intervention.ical_uid]["DESCRIPTION"])
    # The trainer's row, exported then re-imported with a new name (the registry's way of renaming).
    exported = export_trainers(db.session, select(Trainer).where(Trainer.id == trainer.id))
    renamed = exported.replace(trainer.full_name, "Camille Nouveau-Nom")
    clock.advance(timedelta(minutes=5))
    report = import_trainers(db.session, read_table("formateurs.csv", renamed.encode()), actor=None,
                             today=clock.now().date())
    assert report.ok and [change.changed_columns for change in report.updated] == [["nom"]]
    db.session.commit()
    after = anonymous.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200, "the kept VEVENT and the 304 would have kept the old name"
    event = events(after)[intervention.ical_uid]
    assert "Camille Nouveau-Nom" in str(event["DESCRIPTION"]) and event["SEQUENCE"] == 1
    attendees = [a.params.get("CN") for a in event["ATTENDEE"]] if isinstance(event["ATTENDEE"], list) else [
        event["ATTENDEE"].params.get("CN")]
    assert "Camille Nouveau-Nom" in attendees


def test_an_establishment_renamed_is_renamed_in_the_feeds(app, client, clock):
    intervention, _, url, anonymous, first = subscribed_trainer(app, client)
    establishment = intervention.request.establishment
    member = make_user(Role.REQUESTER, establishment_id=establishment.id)
    db.session.commit()
    switch_to(client, member)
    clock.advance(timedelta(minutes=5))
    response = post_form(client, "/etablissement/modifier", {"name": "Collège Lumière", "address": "12 rue Neuve",
                                                             "phone": "04 72 00 00 00"})
    assert response.status_code == 302
    after = anonymous.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200, "the kept VEVENT and the 304 would have kept the old place"
    location = str(events(after)[intervention.ical_uid]["LOCATION"])
    assert location.startswith("Collège Lumière") and "12 rue Neuve" in location


def test_the_feed_made_on_the_first_visit_is_saved_and_a_later_visit_writes_nothing(app, client, clock):
    from sqlalchemy import func, text

    from app.domain.writes import written_tables

    _, trainer, _ = make_confirmed_session()
    login(client, trainer.user)
    first = feed_url_of(client)
    # Read from another connection: only a committed feed is there.
    with db.engine.connect() as other:
        saved = other.execute(text("SELECT count(*) FROM calendar_feed WHERE user_id = :user"),
                              {"user": trainer.user_id}).scalar()
    assert saved == 1
    assert feed_url_of(client) == first
    assert not written_tables(db.session)
    assert db.session.scalar(select(func.count()).select_from(CalendarFeed)
                             .where(CalendarFeed.user_id == trainer.user_id)) == 1
