"""Feeds (#19, points 5 and 7): an empty feed is a calendar, weak and listed ETags match, the 304 says what the 200
says, and the filters of a feed's address (force, départements, period) narrow it under the 1 MB Google accepts,
never widen what its owner may see."""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select, update

from app.domain import feeds
from app.extensions import db
from app.models import Force, Intervention, InterventionStatus, Role
from tests.factories import (
    make_confirmed_session,
    make_coordinator,
    make_establishment,
    make_request,
    make_trainer,
    make_user,
)
from tests.helpers import assert_parses_everywhere, count_queries, login, switch_to


def shown_addresses(client, query: str = "") -> tuple[str, str, str]:
    """The page, and the feed's path and webcal address it shows (the query of its filters included)."""
    page = client.get("/calendrier/" + query)
    text = page.get_data(as_text=True)
    https = html.unescape(re.search(r'id="adresse-https" type="text" readonly value="([^"]+)"', text).group(1))
    webcal = html.unescape(re.search(r'id="adresse-webcal" type="text" readonly value="([^"]+)"', text).group(1))
    assert webcal == "webcal://" + https.split("://", 1)[1]
    return text, https.split("127.0.0.1:5000", 1)[1], webcal


def uids(response) -> set[str]:
    return {str(event["UID"]) for event in Calendar.from_ical(response.data).walk("VEVENT")}


def confirm_all(now: datetime, departement: str, spacing: timedelta = timedelta(hours=2)) -> list[Intervention]:
    """The sessions of a département waiting for a trainer, confirmed one after the other from now (in bulk)."""
    found = db.session.scalars(select(Intervention).where(Intervention.departement_code == departement)
                               .order_by(Intervention.id)).all()
    for index, intervention in enumerate(found):
        start = now + timedelta(days=1) + index * spacing
        db.session.execute(update(Intervention).where(Intervention.id == intervention.id).values(
            status=InterventionStatus.CONFIRMED, confirmed_at=now, starts_at=start, ends_at=start + timedelta(hours=1),
            ical_sequence=1))
    db.session.commit()
    return found


def sessions_in(departement: str, count: int, force: Force = Force.POLICE) -> None:
    establishment = make_establishment(departement, force=force)
    make_request(establishment, status="in_planning", group_count=count)
    db.session.commit()


# -- point 5 ---------------------------------------------------------------------------------------------------


def test_a_feed_without_sessions_is_a_calendar_with_its_owners_zone(app, client, clock):
    """RFC 5545 wants a component in a calendar: an empty feed holds the owner's VTIMEZONE, and parses in
    icalendar, vobject and ical.js."""
    coordinator = make_coordinator("974", Force.GENDARMERIE)
    db.session.commit()
    login(client, coordinator)
    _, url, _ = shown_addresses(client)
    response = app.test_client().get(url)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "BEGIN:VEVENT" not in text and "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text
    parsed = assert_parses_everywhere(response.data)
    assert parsed.icaljs["timezones"] == ["Indian/Reunion"] and parsed.icaljs_events == []
    assert [str(zone["TZID"]) for zone in parsed.calendar.walk("VTIMEZONE")] == ["Indian/Reunion"]

    trainer = make_trainer("69", Force.POLICE)
    db.session.commit()
    switch_to(client, trainer.user)
    _, url, _ = shown_addresses(client)
    parsed = assert_parses_everywhere(app.test_client().get(url).data)
    assert parsed.icaljs["timezones"] == ["Europe/Paris"]


def test_a_weak_etag_a_list_of_etags_and_a_star_match(app, client, clock):
    intervention, trainer, _ = make_confirmed_session()
    login(client, trainer.user)
    _, url, _ = shown_addresses(client)
    calendar_app = app.test_client()
    first = calendar_app.get(url)
    etag = first.headers["ETag"]
    assert calendar_app.get(url, headers={"If-None-Match": "W/" + etag}).status_code == 304
    assert calendar_app.get(url, headers={"If-None-Match": f'"autre", W/"encore", {etag}'}).status_code == 304
    assert calendar_app.get(url, headers={"If-None-Match": '"autre", W/"encore"'}).status_code == 200
    assert calendar_app.get(url, headers={"If-None-Match": "*"}).status_code == 304


def test_the_304_carries_the_vary_etag_and_caching_of_the_200(app, client, clock):
    """Whatever the access log reads (it reads the session's user when it is on): a cache keeps one variant."""
    _, trainer, _ = make_confirmed_session()
    login(client, trainer.user)
    _, url, _ = shown_addresses(client)
    access_log = logging.getLogger("relais.requests")
    level = access_log.level
    try:
        for logged in (logging.INFO, logging.CRITICAL):
            access_log.setLevel(logged)
            calendar_app = app.test_client()
            full = calendar_app.get(url)
            same = calendar_app.get(url, headers={"If-None-Match": full.headers["ETag"]})
            assert (full.status_code, same.status_code) == (200, 304)
            for header in ("Vary", "ETag", "Cache-Control"):
                assert same.headers.get(header) == full.headers.get(header), (header, logged)
            assert "Cookie" in full.headers["Vary"]
    finally:
        access_log.setLevel(level)


# -- point 7: filters --------------------------------------------------------------------------------------------


def test_filters_narrow_a_coordinators_feed_and_never_widen_it(app, client, clock):
    sessions_in("69", 2)
    sessions_in("01", 1)
    sessions_in("13", 1)  # another coordination's
    lyon = confirm_all(clock.now(), "69")
    ain = confirm_all(clock.now(), "01")
    marseille = confirm_all(clock.now(), "13")
    coordinator = make_coordinator("69", Force.POLICE)
    coordinator.scopes.append(type(coordinator.scopes[0])(departement_code="01", force=Force.POLICE))
    db.session.commit()
    login(client, coordinator)
    _, url, _ = shown_addresses(client)
    assert "?" not in url, "a small feed is offered whole"
    calendar_app = app.test_client()
    everything = calendar_app.get(url)
    assert uids(everything) == {i.ical_uid for i in lyon + ain}

    only_lyon = calendar_app.get(url + "?departement=69")
    assert uids(only_lyon) == {i.ical_uid for i in lyon}
    assert only_lyon.headers["ETag"] != everything.headers["ETag"]
    assert "(69)" in str(Calendar.from_ical(only_lyon.data)["X-WR-CALNAME"])
    # Another coordination's département adds nothing: the filters are ANDed to the owner's rows.
    assert uids(calendar_app.get(url + "?departement=69&departement=13")) == {i.ical_uid for i in lyon}
    widened = calendar_app.get(url + "?departement=13")
    assert widened.status_code == 200 and uids(widened) == set()
    assert not {i.ical_uid for i in marseille} & uids(calendar_app.get(url + "?departement=13&departement=01"))
    assert uids(calendar_app.get(url + "?force=gendarmerie")) == set()
    assert uids(calendar_app.get(url + "?force=police&departement=01")) == {i.ical_uid for i in ain}
    # The period: the sessions start from tomorrow on, two hours apart.
    assert uids(calendar_app.get(url + "?jours_a_venir=1")) == set()
    assert uids(calendar_app.get(url + "?jours_a_venir=2&jours_passes=0")) == {i.ical_uid for i in lyon + ain}
    # Each address its own tag; a 304 from one aggregate, filters included.
    etag = only_lyon.headers["ETag"]
    with count_queries() as statements:
        assert calendar_app.get(url + "?departement=69", headers={"If-None-Match": etag}).status_code == 304
    assert len(statements) <= 4, statements
    assert calendar_app.get(url + "?departement=01", headers={"If-None-Match": etag}).status_code == 200


def test_a_filter_that_means_nothing_is_a_400_in_french(app, client, clock):
    _, trainer, _ = make_confirmed_session()
    login(client, trainer.user)
    _, url, _ = shown_addresses(client)
    calendar_app = app.test_client()
    for query, words in (("force=marine", "Filtre de force inconnu"), ("force=police&force=gendarmerie", "force"),
                         ("departement=99", "Département inconnu"), ("departement=<script>", "Département inconnu"),
                         ("jours_passes=-1", "Jours passés"), ("jours_passes=91", "Jours passés"),
                         ("jours_a_venir=0", "Jours à venir"), ("jours_a_venir=401", "Jours à venir"),
                         ("jours_a_venir=dix", "Jours à venir")):
        response = calendar_app.get(f"{url}?{query}")
        assert response.status_code == 400, query
        assert words in response.get_data(as_text=True) and "<script>" not in response.get_data(as_text=True)
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert calendar_app.get("/calendrier/flux/pas-un-jeton.ics?force=marine").status_code == 404
    assert calendar_app.get(f"{url}?departement=2a&autre=1").status_code == 200, "codes in capitals; others ignored"


def test_the_page_offers_a_form_for_the_coordination_and_shows_the_chosen_address(app, client, clock):
    sessions_in("69", 1)
    confirm_all(clock.now(), "69")
    coordinator = make_coordinator("69", Force.POLICE)
    coordinator.scopes.append(type(coordinator.scopes[0])(departement_code="01", force=Force.POLICE))
    db.session.commit()
    login(client, coordinator)
    text, url, webcal = shown_addresses(client)
    assert 'for="filtre-force"' in text and 'for="filtre-passes"' in text and 'for="filtre-a-venir"' in text
    assert 'for="filtre-departement-69"' in text and 'for="filtre-departement-01"' in text
    assert 'value="13"' not in text, "only the départements of the scope"
    assert "Taille estimée : " in text and "1 intervention." in text
    assert "Google Agenda refuse" not in text

    text, url, webcal = shown_addresses(client, "?force=police&departement=01&jours_passes=30&jours_a_venir=200")
    assert url.endswith("?force=police&departement=01&jours_passes=30&jours_a_venir=200")
    assert webcal.endswith(url)
    assert 'id="filtre-departement-01" name="departement" value="01" checked' in text
    assert "0 intervention." in text
    assert app.test_client().get(url).status_code == 200

    page = client.get("/calendrier/?jours_a_venir=999")
    assert page.status_code == 400 and "Jours à venir : un nombre entier de 1 à 400." in page.get_data(as_text=True)


def test_a_trainer_sees_the_size_but_no_territory_form(app, client, clock):
    _, trainer, _ = make_confirmed_session()
    login(client, trainer.user)
    text, url, _ = shown_addresses(client)
    assert "?" not in url and "Taille estimée : " in text and 'id="filtre-force"' not in text


def test_the_feed_offered_to_an_admin_and_a_coordinator_of_two_departements_is_under_one_megabyte(app, client,
                                                                                                   clock):
    """Enough sessions that the whole scope weighs more than Google's 1 MB: the address offered first is under it
    (before any event is kept, from a cautious size per event: the smaller département; once the events are kept
    and measured, the one with the most sessions); the whole one, chosen, is said to be too big, with an estimate
    close to its real size."""
    sessions_in("69", 620)
    sessions_in("01", 300)
    confirm_all(clock.now(), "69", timedelta(hours=12))
    confirm_all(clock.now(), "01", timedelta(hours=12))
    coordinator = make_coordinator("69", Force.POLICE)
    coordinator.scopes.append(type(coordinator.scopes[0])(departement_code="01", force=Force.POLICE))
    admin = make_user(Role.ADMIN)
    db.session.commit()
    calendar_app = app.test_client()
    login(client, coordinator)
    text, offered, _ = shown_addresses(client)
    assert offered.endswith("?departement=01"), "nothing measured yet, cautiously: the Rhône may not fit, the Ain does"
    assert "Pour rester sous 1 Mo" in text and "Google Agenda refuse" not in text
    assert len(calendar_app.get(offered).data) < feeds.SIZE_LIMIT
    whole = calendar_app.get(offered.split("?")[0])
    assert len(whole.data) > feeds.SIZE_LIMIT and len(uids(whole)) == 920
    for person in (coordinator, admin):
        switch_to(client, person)
        text, offered, _ = shown_addresses(client)
        assert offered.endswith("?departement=69"), "the département with the most sessions that fits alone"
        assert "Pour rester sous 1 Mo" in text and "Google Agenda refuse" not in text
        first = calendar_app.get(offered)
        assert len(first.data) < feeds.SIZE_LIMIT and len(uids(first)) == 620
        # The page's estimate, from the kept events now, says so when the whole scope is chosen.
        text, chosen, _ = shown_addresses(client, "?jours_passes=90")
        assert "?" not in chosen
        assert "Google Agenda refuse les agendas de plus de 1 Mo : choisissez un département ou une période plus " \
               "courte." in text
        size = int(re.sub(r"\D", "", re.search(r"Taille estimée : ([^K]+) Ko", text).group(1)))
        assert abs(size * 1000 - len(whole.data)) < len(whole.data) * 0.15, (size, len(whole.data))


def test_a_departement_too_big_alone_is_offered_over_a_shorter_period(app, client, clock, monkeypatch):
    sessions_in("69", 12)
    confirm_all(clock.now(), "69", timedelta(days=10))
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    calendar_app = app.test_client()
    calendar_app.get(shown_addresses(client)[1])  # the events kept: their size measured
    event_bytes = feeds.typical_event_bytes(db.session, "coordination")
    monkeypatch.setattr(feeds, "SIZE_LIMIT", feeds.HEAD_BYTES + 8 * event_bytes)
    text, offered, _ = shown_addresses(client)
    # 12 sessions ten days apart from tomorrow: 9 within 90 days, 3 within 30.
    assert offered.endswith("?jours_passes=7&jours_a_venir=30"), "one département: no need to name it"
    assert "Pour rester sous" in text
    assert len(uids(calendar_app.get(offered))) == 3


def test_filters_are_read_in_the_domain(app):
    read = feeds.read_filters({"departement": ["69", "01", "69"], "force": ["gendarmerie"], "jours_passes": ["0"]})
    assert read == feeds.FeedFilters(Force.GENDARMERIE, ("01", "69"), 0, feeds.FUTURE_WINDOW.days)
    assert read.parameters() == [("force", "gendarmerie"), ("departement", "01"), ("departement", "69"),
                                 ("jours_passes", "0")]
    assert feeds.read_filters({}) == feeds.ALL and feeds.ALL.parameters() == []
    assert feeds.read_filters({"jours_a_venir": ["400"], "jours_passes": ["90"]}) == feeds.ALL
