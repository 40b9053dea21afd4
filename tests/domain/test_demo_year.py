"""A school year of sessions on top of the demo (`flask demo-data --scale national` adds 50,000): every session
in a state the programme produces, on a day it can be held, with its trainers, reports and feedback."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain.demo import SCALES
from app.domain.demo_year import REPORTS_DUE_DAYS, YEAR_SESSIONS, generate_year, sessions_in_period
from app.domain.holidays import check_day
from app.domain.statistics import school_year
from app.domain.timezones import to_local
from app.extensions import db
from app.models import (
    AssignmentStatus,
    Departement,
    Establishment,
    Feedback,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    RequestStatus,
    SessionReport,
)
from tests.factories import build_demo, load_demo_data
from tests.helpers import empty_tables

TODAY = date(2027, 2, 1)
NOW = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)


def _year_rows() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(Intervention.starts_at, Intervention.status, Intervention.departement_code, Intervention.force,
               Intervention.trainers_needed, Intervention.people_reached)
        .where(Intervention.ical_uid.like("demo-year-%")).order_by(Intervention.id))]


def test_the_year_is_topped_up_with_sessions_in_every_state_on_days_they_can_be_held(app):
    build_demo(4, TODAY)
    period = school_year(TODAY)
    before = sessions_in_period(db.session, period)
    year = generate_year(db.session, now=NOW, seed=4, sessions=before + 600)
    db.session.commit()

    assert sessions_in_period(db.session, period) == year.sessions == before + 600
    assert year.generated_sessions == 600 and year.from_before == before
    generated = db.session.scalars(select(Intervention).where(Intervention.ical_uid.like("demo-year-%"))).all()
    states = Counter(session.status for session in generated)
    assert set(states) == {InterventionStatus.DONE, InterventionStatus.NOT_HELD, InterventionStatus.CONFIRMED,
                           InterventionStatus.CANCELLED}
    assert (states[InterventionStatus.DONE], states[InterventionStatus.NOT_HELD], states[InterventionStatus.CONFIRMED],
            states[InterventionStatus.CANCELLED]) == (year.done, year.not_held, year.confirmed, year.cancelled)

    places = {e.id: e for e in db.session.scalars(select(Establishment))}
    zones = {d.code: d for d in db.session.scalars(select(Departement))}
    for session in generated:
        low, high = period.bounds
        assert low <= session.starts_at < high
        place = places[session.request.establishment_id]
        departement = zones[place.departement_code]
        day = to_local(session.starts_at, departement.timezone).date()
        assert day.weekday() < 5
        assert not check_day(departement.code, departement.holiday_zone, day, place.kind.is_school).is_blocked
        request = session.request
        assert request.created_at < request.submitted_at < request.accepted_at <= session.confirmed_at
        assert session.confirmed_at < session.starts_at
        accepted = [a for a in session.assignments if a.status is AssignmentStatus.ACCEPTED]
        reports = db.session.scalars(select(SessionReport).where(SessionReport.intervention_id == session.id)).all()
        if session.status is InterventionStatus.CANCELLED:
            assert request.status is RequestStatus.CANCELLED and not accepted and not reports
            continue
        assert len(accepted) == session.trainers_needed == session.accepted_count
        if session.status is InterventionStatus.CONFIRMED:
            assert session.ends_at > NOW - timedelta(days=REPORTS_DUE_DAYS) and not reports
        else:
            # Given (or not held) before today: one report per trainer, filed by that trainer.
            assert session.ends_at <= NOW - timedelta(days=REPORTS_DUE_DAYS)
            assert sorted(r.trainer_id for r in reports) == sorted(a.trainer_id for a in accepted)
            held = session.status is InterventionStatus.DONE
            assert all(r.held is held and r.author_id == r.trainer.user_id for r in reports)
            assert (session.people_reached is not None) is held
    assert db.session.scalar(select(func.count()).select_from(Feedback)
                             .join(Intervention, Intervention.id == Feedback.intervention_id)
                             .where(Intervention.ical_uid.like("demo-year-%"))) == year.feedback > 0
    assert db.session.scalar(select(func.count()).select_from(InterventionRequest)
                             .where(InterventionRequest.contact_name == "Contact de démonstration")) \
        == year.generated_requests


def test_same_seed_same_year_and_a_full_year_adds_nothing(app):
    build_demo(4, TODAY, year_sessions=300)
    db.session.commit()
    first = _year_rows()
    assert len(first) > 0
    again = generate_year(db.session, now=NOW, seed=4, sessions=300)
    assert again.generated_sessions == 0
    empty_tables()
    build_demo(4, TODAY, year_sessions=300)
    db.session.commit()
    assert _year_rows() == first


@pytest.mark.rolled_back
def test_the_national_demo_comes_with_a_year_and_the_small_one_without(app):
    assert SCALES["national"].year_sessions == YEAR_SESSIONS == 50_000
    assert SCALES["demo"].year_sessions == 0
    result = build_demo(4, TODAY)
    assert "interventions de l'année scolaire" not in result.counts
    assert not _year_rows()


def test_the_share_of_the_year_already_given_follows_the_date_unless_set(app):
    december = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)

    def given_share(**share) -> float:
        load_demo_data(seed=4, today=december.date())  # the same demo twice: built once
        before = sessions_in_period(db.session, school_year(december.date()))
        generate_year(db.session, now=december, seed=4, sessions=before + 600, **share)
        db.session.commit()
        starts = db.session.scalars(select(Intervention.starts_at)
                                    .where(Intervention.ical_uid.like("demo-year-%"))).all()
        empty_tables()
        return sum(start < december for start in starts) / len(starts)

    # Built on 2 December: about a quarter of the school year's open days are gone.
    share = given_share()
    assert 0.15 < share < 0.4
    assert given_share(past_share=0.72) > 0.6
