"""Ranking a stored session: real rows in, candidates out, in a fixed number of queries."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.matching import rank_intervention
from app.extensions import db
from app.models import Force, Intervention
from tests.factories import (
    OFFER_SETTINGS,
    make_establishment,
    make_qualified_trainer,
    make_request,
    make_session_to_rank,
    make_trainer,
)
from tests.helpers import count_queries


def test_ranks_qualified_trainers_and_explains_the_others(app, clock):
    intervention = make_session_to_rank()
    good = make_qualified_trainer()
    gendarme = make_qualified_trainer(force=Force.GENDARMERIE)
    unqualified = make_trainer("69", Force.POLICE)
    db.session.commit()
    ranking = rank_intervention(db.session, intervention.id, clock.now())
    assert [c.trainer_id for c in ranking.candidates] == [good.id]
    assert ranking.candidates[0].starts, "a candidate comes with possible start times"
    assert [e.rule for e in ranking.excluded[gendarme.id]] == ["force"]
    assert {e.rule for e in ranking.excluded[unqualified.id]} == {"themes", "public"}
    assert rank_intervention(db.session, 999999, clock.now()) is None


def test_query_count_does_not_grow_with_the_pool(app, clock):
    intervention = make_session_to_rank()
    make_qualified_trainer()
    db.session.commit()
    db.session.expire_all()
    with count_queries() as few:
        rank_intervention(db.session, intervention.id, clock.now())
    for _ in range(8):
        make_qualified_trainer()
    db.session.commit()
    db.session.expire_all()
    with count_queries() as many:
        ranking = rank_intervention(db.session, intervention.id, clock.now())
    assert len(ranking.candidates) == 9
    assert len(many) == len(few) <= 20


def test_continuity_and_weekly_limits_are_read_from_the_stored_sessions(app, clock):
    """Who came to the establishment lately (accepted, not declined, not elsewhere, not too long ago) and who
    already has their week's sessions: both read from the database, in the statements of the ranking."""
    from datetime import UTC, datetime, timedelta

    from tests.factories import make_assigned_session

    intervention = make_session_to_rank()
    establishment = intervention.request.establishment
    came, declined, elsewhere, long_ago = (make_qualified_trainer() for _ in range(4))
    full_week = make_qualified_trainer(max_sessions_per_week=1)
    make_assigned_session(came, clock.now() - timedelta(days=60), establishment=establishment)
    make_assigned_session(declined, clock.now() - timedelta(days=60), status="declined", establishment=establishment)
    make_assigned_session(elsewhere, clock.now() - timedelta(days=60))
    make_assigned_session(long_ago, clock.now() - timedelta(days=420), establishment=establishment)
    # Monday 11 January 2027, 16:00 in Lyon: the week of every possible start (11 to 15 January, mornings).
    make_assigned_session(full_week, datetime(2027, 1, 11, 15, 0, tzinfo=UTC))
    db.session.commit()
    ranking = rank_intervention(db.session, intervention.id, clock.now())
    continuity = {c.trainer_id: c.parts["continuite"] for c in ranking.candidates}
    assert continuity == {came.id: 1.0, declined.id: 0.0, elsewhere.id: 0.0, long_ago.id: 0.0}
    # Refused at every start; the first refusal (8:00, travel before it outside the day) says why.
    assert "limite-hebdomadaire" in {e.rule for e in ranking.excluded[full_week.id]}


def test_the_session_read_as_rows_is_the_one_planning_reads_as_objects(app, clock):
    """Ranking one session reads it as plain rows, planning a month as objects: both give the same need,
    establishment without coordinates (the département's centre) and trainers already asked included; a
    trainer's profile comes from plain rows for both."""
    from datetime import timedelta

    from app.domain import offers
    from app.domain.eligibility import FILLED_BY_OTHERS, TrainerProfile
    from app.domain.matching import load_session_to_rank, load_trainer_profiles, session_need
    from app.domain.vocabulary import SESSION_FILLED
    from app.models import Assignment, AssignmentStatus, Audience, Trainer

    establishment = make_establishment("69", force=Force.POLICE)
    establishment.latitude = establishment.longitude = None
    make_request(establishment, status="in_planning", audiences=("4e", "3e"), topics=("cannabis", "alcool"))
    intervention = db.session.scalars(select(Intervention).order_by(Intervention.id)).first()
    asked = make_qualified_trainer(certified_on=None)
    asked.audiences = [db.session.get(Audience, "4e"), db.session.get(Audience, "3e")]
    start = clock.now() + timedelta(days=30)
    offers.make_offer(db.session, intervention, asked, start, start + timedelta(hours=1), None, clock.now(),
                      OFFER_SETTINGS)
    # A second trainer's offer closed as the session filled (it reads as such, not as a withdrawal).
    filled = make_qualified_trainer(certified_on=None)
    db.session.add(Assignment(intervention_id=intervention.id, trainer_id=filled.id, offered_at=clock.now(),
                              status=AssignmentStatus.WITHDRAWN, decline_reason=SESSION_FILLED))
    db.session.commit()
    rows = load_session_to_rank(db.session, intervention.id, clock.now())
    assert rows.need == session_need(intervention)
    assert rows.need.asked == {(asked.id, "offered"), (filled.id, FILLED_BY_OTHERS)}
    assert rows.need.latitude is not None
    assert [(w.start_date, w.end_date, w.start_time, w.end_time) for w in rows.windows] == [
        (w.start_date, w.end_date, w.start_time, w.end_time) for w in intervention.request.windows]
    assert rows.duration == timedelta(minutes=intervention.request.duration_minutes)
    profiles, _ = load_trainer_profiles(db.session, Trainer.id == asked.id)
    assert profiles == [TrainerProfile(
        trainer_id=asked.id, active=True, force="police", departement_codes=frozenset({"69"}),
        topic_codes=frozenset({"cannabis"}), audience_codes=frozenset({"4e", "3e"}),
        certified_since=asked.certified_since, max_distance_km=asked.max_distance_km,
        accepts_pair_work=asked.accepts_pair_work, latitude=asked.unit.latitude, longitude=asked.unit.longitude)]
