"""Lists that grow with use stay fast (#18): a page at a time (keyset, `apres`), in their order, with links between
pages a screen reader can find, and the same SQL statements with five rows or two hundred."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from app.extensions import db
from app.models import (
    Assignment,
    AssignmentStatus,
    Force,
    InterventionStatus,
    MessageStatus,
    OutgoingMessage,
    Role,
)
from tests.factories import MONDAY_9, make_establishment, make_qualified_trainer, make_request, make_user
from tests.helpers import count_queries, switch_to

HOME_OFFERS = 3


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


def statements(client, url: str) -> int:
    db.session.expire_all()
    with count_queries() as sent:
        assert client.get(url).status_code == 200
    return len(sent)


def next_link(html: str) -> str | None:
    """The address of « Page suivante » inside the pages' navigation, if any."""
    nav = re.search(r'<nav aria-label="Pages [^"]+"[^>]*>(.*?)</nav>', html, re.S)
    if nav is None:
        return None
    found = re.search(r'<a [^>]*href="([^"]+)"[^>]*>Page suivante</a>', nav.group(1))
    return found.group(1).replace("&amp;", "&") if found else None


def add_offers(trainer, count: int, clock, *, first_day: int = 0) -> list[Assignment]:
    """`count` open offers to `trainer`, one a day from MONDAY_9 + `first_day`, created latest session first (so
    that the order of their ids is not the order of their dates)."""
    establishment = make_establishment("69", force=Force.POLICE)
    request = make_request(establishment, status="in_planning", group_count=count)
    made = []
    for number, intervention in enumerate(reversed(request.interventions)):
        start = MONDAY_9 + timedelta(days=first_day + count - 1 - number)
        intervention.starts_at, intervention.ends_at = start, start + timedelta(hours=1)
        intervention.status = InterventionStatus.OFFERED
        assignment = Assignment(intervention_id=intervention.id, trainer_id=trainer.id,
                                status=AssignmentStatus.OFFERED, offered_at=clock.now(),
                                expires_at=clock.now() + timedelta(days=3))
        db.session.add(assignment)
        made.append(assignment)
    db.session.commit()
    return sorted(made, key=lambda a: (a.intervention.starts_at, a.id))


def offer_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="proposition-(\d+)"', html)]


# -- a trainer's offers ---------------------------------------------------------------------------------------


def test_trainer_home_shows_the_first_offers_by_date_and_links_to_all(client, clock, logged_in):
    trainer = make_qualified_trainer()
    offers = add_offers(trainer, 12, clock)
    logged_in(trainer.user)
    home = text(client.get("/accueil"))
    assert offer_ids(home) == [a.id for a in offers[:HOME_OFFERS]]
    assert "Voir toutes les propositions (12)" in home and 'href="/propositions/"' in home


def test_trainer_home_has_no_link_when_every_offer_is_shown(client, clock, logged_in):
    trainer = make_qualified_trainer()
    offers = add_offers(trainer, 3, clock)
    logged_in(trainer.user)
    home = text(client.get("/accueil"))
    assert offer_ids(home) == [a.id for a in offers]
    assert "Voir toutes les propositions" not in home


def test_the_list_of_offers_goes_page_by_page_in_session_order(client, clock, logged_in, monkeypatch):
    from app.offers import routes

    monkeypatch.setattr(routes, "PAGE_SIZE", 4)
    trainer = make_qualified_trainer()
    offers = add_offers(trainer, 10, clock)
    # An offer to someone else and an expired one are not listed.
    add_offers(make_qualified_trainer(), 2, clock, first_day=1)
    expired = add_offers(trainer, 1, clock, first_day=30)[0]
    expired.expires_at = clock.now() - timedelta(hours=1)
    db.session.commit()
    logged_in(trainer.user)
    url, pages = "/propositions/", []
    while url:
        html = text(client.get(url))
        pages.append(offer_ids(html))
        assert "10 propositions, par date d'intervention." in html
        assert '<nav aria-label="Pages des propositions"' in html
        assert ("Revenir au début" in html) == (url != "/propositions/")
        url = next_link(html)
    assert [len(page) for page in pages] == [4, 4, 2]
    assert [offer for page in pages for offer in page] == [a.id for a in offers]
    # The key of the next page is the last offer shown: the page after it starts at the next date.
    assert f"/propositions/?apres={offers[3].id}" in text(client.get("/propositions/"))
    assert offer_ids(text(client.get(f"/propositions/?apres={offers[6].id}"))) == [a.id for a in offers[7:]]


def test_offer_pages_send_as_many_statements_for_five_offers_as_for_two_hundred(client, clock, logged_in):
    few, many = make_qualified_trainer(), make_qualified_trainer()
    add_offers(few, 5, clock)
    add_offers(many, 200, clock)
    counted = {}
    for trainer in (few, many):
        if counted:
            switch_to(client, trainer.user)
        else:
            logged_in(trainer.user)
        deeper = f"/propositions/?apres={add_offers(trainer, 1, clock, first_day=-1)[0].id}"
        counted[trainer.id] = [statements(client, url) for url in ("/accueil", "/propositions/", deeper)]
    assert counted[few.id] == counted[many.id], counted


# -- a requester's requests -----------------------------------------------------------------------------------


def requester_with(count: int):
    establishment = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id)
    items = [make_request(establishment, requester, status="submitted" if number % 3 else "draft")
             for number in range(count)]
    db.session.commit()
    return requester, items


def request_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r">Demande n° (\d+)</a>", html)]


def test_the_requests_go_page_by_page_latest_first(client, clock, logged_in, monkeypatch):
    from app.interventions import routes

    monkeypatch.setattr(routes, "PAGE_SIZE", 3)
    requester, items = requester_with(7)
    make_request(make_establishment("69", force=Force.POLICE))  # another establishment's: not listed
    db.session.commit()
    logged_in(requester)
    seen, url, sizes = [], "/demandes/", []
    while url:
        html = text(client.get(url))
        assert "7 demandes, les plus récentes en premier." in html
        assert '<nav aria-label="Pages des demandes"' in html
        assert ("Revenir au début" in html) == (url != "/demandes/")
        sizes.append(len(request_ids(html)))
        seen += request_ids(html)
        url = next_link(html)
    assert sizes == [3, 3, 1]
    assert seen == sorted((item.id for item in items), reverse=True)
    newest = sorted(item.id for item in items)[::-1]
    assert f"/demandes/?apres={newest[2]}" in text(client.get("/demandes/"))


def test_requester_pages_send_as_many_statements_for_five_requests_as_for_two_hundred(client, clock, logged_in):
    few, _ = requester_with(5)
    many, _ = requester_with(200)
    counted = {}
    for requester in (few, many):
        if counted:
            switch_to(client, requester)
        else:
            logged_in(requester)
        counted[requester.id] = [statements(client, url) for url in ("/accueil", "/demandes/",
                                                                     "/demandes/?apres=100000")]
    assert counted[few.id] == counted[many.id], counted
    home = text(client.get("/accueil"))
    assert home.count("en brouillon :") == 10  # the first drafts; the others are in the list
    assert len(request_ids(text(client.get("/demandes/")))) == 50


# -- the outbox -----------------------------------------------------------------------------------------------


def add_messages(count: int, status: MessageStatus = MessageStatus.SENT) -> list[int]:
    rows = [OutgoingMessage(recipient=f"personne{number}@example.org", subject=f"Message {number}",
                            body_text="Bonjour", status=status) for number in range(count)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def message_subjects(html: str) -> list[str]:
    return re.findall(r"<td>(Message \d+)</td>", html)


@pytest.fixture
def admin(logged_in):
    user = make_user(Role.ADMIN)
    logged_in(user)
    return user


def test_the_outbox_goes_page_by_page_latest_first_within_its_filter(client, clock, admin, monkeypatch):
    from app.admin import routes

    monkeypatch.setattr(routes, "PAGE_SIZE", 4)
    sent = add_messages(6)
    failed = add_messages(5, MessageStatus.FAILED)
    first = text(client.get("/admin/messages?statut=failed"))
    assert message_subjects(first) == [f"Message {n}" for n in (4, 3, 2, 1)]
    url = next_link(first)
    assert url == f"/admin/messages?apres={failed[1]}&statut=failed"
    second = text(client.get(url))
    assert message_subjects(second) == ["Message 0"] and next_link(second) is None
    assert "Revenir au début" in second and 'aria-label="Pages des messages"' in second
    everything = text(client.get("/admin/messages"))
    assert len(message_subjects(everything)) == 4 and f"apres={failed[1]}" in everything
    assert sent  # the sent ones follow on later pages


def test_the_outbox_sends_as_many_statements_for_five_messages_as_for_two_hundred(client, clock, admin):
    add_messages(5)
    few = [statements(client, url) for url in ("/admin/messages", "/admin/messages?apres=3")]
    add_messages(200)
    many = [statements(client, url) for url in ("/admin/messages", "/admin/messages?apres=150")]
    assert few == many


# -- reports to file, the users, the reports ------------------------------------------------------------------


def test_trainer_home_lists_the_ten_oldest_reports_to_file_and_says_how_many_follow(client, clock, logged_in):
    from tests.factories import make_assigned_session

    trainer = make_qualified_trainer()
    sessions = [make_assigned_session(trainer, clock.now() - timedelta(days=40 - number)) for number in range(12)]
    db.session.commit()
    logged_in(trainer.user)
    home = text(client.get("/accueil"))
    listed = [int(found) for found in re.findall(r'href="/comptes-rendus/interventions/(\d+)"', home)]
    assert listed == [s.id for s in sessions[:10]]
    assert "Et 2 autres, qui s'afficheront ici une fois ceux-ci remplis." in home
    few = statements(client, "/accueil")
    make_assigned_session(trainer, clock.now() - timedelta(days=2))
    db.session.commit()
    assert statements(client, "/accueil") == few


def test_users_pages_have_the_accessible_pager(client, clock, admin, monkeypatch):
    from app.admin import routes

    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    for _ in range(3):
        make_user(Role.REQUESTER)
    db.session.commit()
    first = text(client.get("/admin/utilisateurs"))
    assert 'aria-label="Pages des utilisateurs"' in first and "Revenir au début" not in first
    second = text(client.get(next_link(first)))
    assert "Revenir au début" in second


def test_the_queue_pages_keep_every_status_and_lead_back_to_the_first(client, clock, logged_in, monkeypatch):
    from app.coordination import routes
    from tests.factories import make_coordinator

    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    establishment = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id)
    items = [make_request(establishment, requester, status="submitted" if number % 2 else "refused")
             for number in range(5)]
    logged_in(make_coordinator("69", Force.POLICE))
    seen, url = [], "/coordination/demandes?statut="
    while url:
        html = text(client.get(url))
        assert '<nav aria-label="Pages des demandes"' in html
        seen += request_ids(html)
        url = next_link(html)
        assert url is None or "statut=" in url
    assert seen == [item.id for item in items]  # oldest first, refused ones included on every page
    assert 'href="/coordination/demandes?statut="' in html and "Revenir au début" in html


def test_coordinator_home_lists_the_oldest_sessions_to_take_back_and_says_how_many_follow(client, clock, logged_in,
                                                                                        monkeypatch):
    from app.main import routes as home
    from tests.factories import make_coordinator, make_session_in_planning

    monkeypatch.setattr(home, "HOME_FLAGGED", 3)
    sessions = [make_session_in_planning() for _ in range(5)]
    for age, session in enumerate(sessions):  # the last made has waited the longest: it comes first
        session.attention_reason, session.attention_at = "Plus aucun formateur possible.", clock.now() - timedelta(
            hours=age)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    logged_in(coordinator)
    page = text(client.get("/accueil"))
    listed = [int(found) for found in re.findall(r'/coordination/demandes/\d+/interventions/(\d+)/candidats', page)]
    assert listed == [s.id for s in reversed(sessions)][:3]
    assert "Et 2 autres, qui s'afficheront ici une fois celles-ci reprises." in page
    sessions[4].attention_reason = None  # two taken back: the rest fits, nothing more is said
    sessions[3].attention_reason = None
    db.session.commit()
    assert "qui s'afficheront ici" not in text(client.get("/accueil"))
