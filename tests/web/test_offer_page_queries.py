"""Pages with offers issue the same number of SQL statements with one row or many."""

from __future__ import annotations

from datetime import timedelta

from app.domain import offers
from app.extensions import db
from app.models import Force
from tests.factories import (
    MONDAY_9,
    OFFER_SETTINGS,
    make_coordinator,
    make_establishment,
    make_qualified_trainer,
    make_request,
)
from tests.helpers import count_queries, login, post_form


def _offer_groups(trainers, groups: int, day_offset: int, clock):
    establishment = make_establishment("69", force=Force.POLICE)
    request = make_request(establishment, status="in_planning", group_count=groups)
    for number, intervention in enumerate(request.interventions):
        start = MONDAY_9 + timedelta(days=day_offset + number)
        offers.make_offer(db.session, intervention, trainers[number % len(trainers)], start,
                          start + timedelta(hours=1), None, clock.now(), OFFER_SETTINGS)
    db.session.commit()
    return request


def _statements(client, url: str) -> int:
    db.session.expire_all()
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_request_page_and_trainer_home_do_not_grow_with_rows(app, client, clock):
    trainer, colleague = make_qualified_trainer(), make_qualified_trainer()
    small = _offer_groups([trainer], 1, 0, clock)
    large = _offer_groups([trainer, colleague], 4, 7, clock)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    one = _statements(client, f"/coordination/demandes/{small.id}")
    many = _statements(client, f"/coordination/demandes/{large.id}")
    assert many == one, (one, many)

    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    login(client, colleague.user)
    few_offers = _statements(client, "/accueil")  # two offers
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    login(client, trainer.user)
    more_offers = _statements(client, "/accueil")  # three offers, from two establishments
    assert more_offers == few_offers, (few_offers, more_offers)


def test_coordinator_home_dashboard_and_feed_do_not_grow_with_rows(app, client, clock):
    from app.domain import offers as offer_rules

    coordinator = make_coordinator("69", Force.POLICE)
    trainer = make_qualified_trainer()
    db.session.commit()
    login(client, coordinator)
    feed_page = client.get("/calendrier/").get_data(as_text=True)
    import re

    feed_url = re.search(r'id="adresse-https" type="text" readonly value="http://127.0.0.1:5000([^"]+)"',
                         feed_page).group(1)

    def grow(groups: int, day: int) -> None:
        request = _offer_groups([trainer], groups, day, clock)
        for intervention in request.interventions:
            # Declined with nobody else to ask: flagged on the coordinator's home.
            assignment = intervention.assignments[0]
            offer_rules.decline_offer(db.session, assignment, "Indisponible", clock.now(), OFFER_SETTINGS)
        db.session.commit()

    def confirm(groups: int, day: int) -> None:
        request = _offer_groups([trainer], groups, day, clock)
        for intervention in request.interventions:
            offer_rules.accept_offer(db.session, intervention.assignments[0], clock.now())
        db.session.commit()

    grow(1, 0)
    confirm(1, 100)
    small = [_statements(client, url) for url in ("/accueil", "/statistiques/", feed_url)]
    grow(8, 20)
    confirm(8, 120)
    large = [_statements(client, url) for url in ("/accueil", "/statistiques/", feed_url)]
    assert large == small, (small, large)
