"""Rules that used to sit in views, now in the domain where the pages, the commands and the API share them:
saving a request from plain input, offering only to a ranked candidate at one of its starts, a feed's
content, availability periods and registrations."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from app.domain import feeds, offers
from app.domain.establishments import register_establishment
from app.domain.refusals import Refused
from app.domain.request_rules import RequestInput, WindowInput
from app.domain.requests import InvalidRequest, RequestDetails, save_request, submit_request
from app.domain.roster import add_exception
from app.extensions import db
from app.models import (
    Assignment,
    CalendarFeed,
    EstablishmentKind,
    ExceptionKind,
    InterventionRequest,
    RequestStatus,
    RequestWindow,
    Role,
)
from tests.factories import (
    MONDAY_9,
    OFFER_SETTINGS,
    make_commune,
    make_coordinator,
    make_establishment,
    make_qualified_trainer,
    make_request,
    make_session_in_planning,
    make_user,
)

DETAILS = RequestDetails(contact_name="Mme Martin", contact_phone="04 78 00 00 00", notes="  Salle 12  ")


def good_input(start: date) -> RequestInput:
    return RequestInput(audience_codes=["4e"], topic_codes=["cannabis"], group_count=2, people_per_group=25,
                        duration_minutes=60, windows=[WindowInput(start, start + timedelta(days=4), time(8, 0),
                                                                  time(12, 0))])


@pytest.mark.rolled_back
def test_a_request_is_saved_from_plain_input_and_sent_when_asked(app, clock):
    establishment = make_establishment("69")
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id)
    coordinator = make_coordinator("69")
    saved = save_request(db.session, establishment, requester, good_input(date(2027, 1, 11)), DETAILS, None,
                         send=True, now=clock.now(), min_notice_days=15)
    request = saved.request
    assert saved.sent and request.status is RequestStatus.SUBMITTED
    assert (request.group_count, request.notes, [w.start_date for w in request.windows]) == (
        2, "Salle 12", [date(2027, 1, 11)])
    assert [(n.recipient, n.kind) for n in saved.change.notices] == [(coordinator, "submitted")]
    assert [event.kind for event in request.events] == ["created", "submitted"]


@pytest.mark.rolled_back
def test_a_request_breaking_a_rule_is_refused_field_by_field_and_nothing_is_written(app, clock):
    establishment = make_establishment("69")
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id)
    bad = good_input(date(2027, 1, 11))
    bad.group_count, bad.windows = 0, [WindowInput(date(2026, 12, 1), date(2026, 12, 2), time(8), time(12))]
    with pytest.raises(InvalidRequest) as refused:
        save_request(db.session, establishment, requester, bad, DETAILS, None, send=False, now=clock.now(),
                     min_notice_days=15)
    assert refused.value.code == "request_invalid"
    assert set(refused.value.findings.errors) == {"group_count", "windows-0-start_date"}
    assert db.session.scalar(select(func.count(InterventionRequest.id))) == 0
    assert db.session.scalar(select(func.count(RequestWindow.id))) == 0


@pytest.mark.rolled_back
def test_an_aged_draft_is_not_sent(app, clock):
    item = make_request(status="draft", start=clock.now().date() + timedelta(days=3))  # less than 15 days ahead
    with pytest.raises(Refused, match="request_incomplete"):
        submit_request(db.session, item, item.created_by, clock.now(), min_notice_days=15)
    assert item.status is RequestStatus.DRAFT


@pytest.mark.rolled_back
def test_only_a_ranked_candidate_at_one_of_its_starts_may_be_offered(app, clock):
    session_ = make_session_in_planning()
    candidate = make_qualified_trainer()
    stranger = make_qualified_trainer()
    stranger.topics = []  # not qualified for the session's theme any more
    coordinator = make_coordinator("69")
    db.session.flush()
    with pytest.raises(Refused, match="not_a_candidate"):
        offers.offer_to_candidate(db.session, session_, stranger.id, MONDAY_9, coordinator, clock.now(),
                                  OFFER_SETTINGS)
    with pytest.raises(Refused, match="start_not_offered"):
        offers.offer_to_candidate(db.session, session_, candidate.id, MONDAY_9.replace(hour=3), coordinator,
                                  clock.now(), OFFER_SETTINGS)
    change = offers.offer_to_candidate(db.session, session_, candidate.id, MONDAY_9, coordinator, clock.now(),
                                       OFFER_SETTINGS)
    assert [(n.recipient, n.kind) for n in change.notices] == [(candidate.user, "offer")]
    assert db.session.scalar(select(Assignment.trainer_id)) == candidate.id


@pytest.mark.rolled_back
def test_once_someone_is_asked_only_the_session_s_time_may_be_offered(app, clock):
    session_ = make_session_in_planning()
    first, second = make_qualified_trainer(), make_qualified_trainer()
    coordinator = make_coordinator("69")
    offers.offer_to_candidate(db.session, session_, first.id, MONDAY_9, coordinator, clock.now(), OFFER_SETTINGS)
    later = MONDAY_9 + timedelta(hours=1)
    assert offers.offerable_starts(session_, [MONDAY_9, later]) == [MONDAY_9]
    with pytest.raises(Refused, match="start_not_offered"):
        offers.offer_to_candidate(db.session, session_, second.id, later, coordinator, clock.now(), OFFER_SETTINGS)


@pytest.mark.rolled_back
def test_a_feed_shows_nothing_once_its_owner_is_deactivated(app, clock):
    trainer = make_qualified_trainer()
    feed = CalendarFeed(user_id=trainer.user_id, nonce="n", token_hash="h")
    db.session.add(feed)
    db.session.flush()
    source = feeds.feed_source(db.session, feed, clock.now(), "salt")
    assert source.name == "Relais — mes interventions" and source.rows() == []
    trainer.user.active = False
    assert feeds.feed_source(db.session, feed, clock.now(), "salt") is None


@pytest.mark.rolled_back
def test_an_availability_period_must_end_after_it_starts_and_not_be_over(app, clock):
    trainer = make_qualified_trainer()
    today = clock.now().date()
    with pytest.raises(Refused, match="period_reversed"):
        add_exception(trainer, ExceptionKind.UNAVAILABLE, today + timedelta(days=3), None, today, None, None,
                      "Europe/Paris", clock.now())
    with pytest.raises(Refused, match="period_past"):
        add_exception(trainer, ExceptionKind.UNAVAILABLE, today - timedelta(days=9), None, today - timedelta(days=2),
                      None, None, "Europe/Paris", clock.now())
    added = add_exception(trainer, ExceptionKind.UNAVAILABLE, today, None, today, None, "Formation", "Europe/Paris",
                          clock.now())
    assert added in trainer.exceptions


@pytest.mark.rolled_back
def test_an_establishment_is_registered_once(app, clock):
    make_commune("69123", "Lyon", postcode="69001")
    first, second = make_user(Role.REQUESTER), make_user(Role.REQUESTER)
    values = dict(kind=EstablishmentKind.COLLEGE, name=" Collège Jean-Moulin ", uai="0690001A", siret=None,
                  address="1 rue Garibaldi", postcode="69001", commune_insee=None, commune_name=None, phone=None,
                  now=clock.now())
    establishment = register_establishment(db.session, first, **values)
    assert (establishment.name, establishment.departement_code, first.establishment_id) == (
        "Collège Jean-Moulin", "69", establishment.id)
    with pytest.raises(Refused, match="establishment_exists"):
        register_establishment(db.session, second, **values)
    assert second.establishment_id is None
