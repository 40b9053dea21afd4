"""The demo data set: deterministic, complete, valid identifiers."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.domain.identifiers import is_valid_siret, is_valid_uai
from app.extensions import db
from app.models import Establishment, EstablishmentKind, Force, Role, Trainer, User
from tests.factories import build_demo
from tests.helpers import empty_tables

TODAY = date(2026, 11, 30)


def _snapshot() -> list[tuple]:
    users = db.session.execute(select(User.email, User.full_name, User.role).order_by(User.id)).all()
    establishments = db.session.execute(
        select(Establishment.name, Establishment.uai, Establishment.siret, Establishment.latitude,
               Establishment.force).order_by(Establishment.id)).all()
    trainers = db.session.execute(
        select(Trainer.matricule, Trainer.force, Trainer.last_refresher_on, Trainer.max_distance_km)
        .order_by(Trainer.id)).all()
    return [tuple(row) for row in (*users, *establishments, *trainers)]


def _reset() -> None:
    empty_tables()


def test_same_seed_same_data_other_seed_other_data(app):
    build_demo(11, TODAY)
    db.session.commit()
    first = _snapshot()
    _reset()
    build_demo(11, TODAY)
    db.session.commit()
    assert _snapshot() == first
    _reset()
    build_demo(12, TODAY)
    db.session.commit()
    assert _snapshot() != first


def test_demo_has_every_role_kind_and_force_with_valid_identifiers(app):
    result = build_demo(3, TODAY)
    db.session.commit()
    assert {account.role for account in result.accounts} == {"admin", "coordinator", "trainer", "requester"}
    roles = set(db.session.scalars(select(User.role).distinct()))
    assert roles == set(Role)
    kinds = set(db.session.scalars(select(Establishment.kind).distinct()))
    assert kinds >= {EstablishmentKind.COLLEGE, EstablishmentKind.LYCEE, EstablishmentKind.COMPANY,
                     EstablishmentKind.HIGHER_EDUCATION}
    assert set(db.session.scalars(select(Trainer.force).distinct())) == {Force.POLICE, Force.GENDARMERIE}
    for establishment in db.session.scalars(select(Establishment)):
        if establishment.kind.uses_uai:
            assert is_valid_uai(establishment.uai), establishment.uai
        if establishment.kind.uses_siret:
            assert is_valid_siret(establishment.siret), establishment.siret
    departements = set(db.session.scalars(select(Establishment.departement_code).distinct()))
    assert "974" in departements and "2A" in departements  # overseas and Corsica are part of the demo


def test_demo_data_command_prints_logins_and_refuses_a_full_database(app, runner):
    result = runner.invoke(args=["demo-data", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "admin@relais.demo" in result.output and "Prevention-Relais-2026" in result.output
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code != 0 and "n'est pas vide" in again.output
    quiet = runner.invoke(args=["demo-data", "--if-empty"])
    assert quiet.exit_code == 0 and "admin@relais.demo" in quiet.output
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "admin@relais.demo")) == 1


@pytest.mark.parametrize("today", [date(2026, 12, 6), date(2027, 5, 10)])
def test_the_demo_never_books_a_trainer_twice_nor_holds_a_session_on_a_holiday(app, today):
    """Every session to come or given is on a day the place can receive one, and no trainer holds two that they
    could not both reach (travel counted) — the demo once had both on 11 November (issue #17, point 17)."""
    from app.domain.availability import BusyPeriod, travel_minutes_for
    from app.domain.holidays import check_day
    from app.domain.timezones import to_local
    from app.models import Assignment, AssignmentStatus, Intervention, InterventionRequest, InterventionStatus

    build_demo(2026, today)
    db.session.flush()
    rows = db.session.execute(
        select(Assignment.trainer_id, Assignment.distance_km, Intervention.id, Intervention.starts_at,
               Intervention.ends_at, InterventionRequest.establishment_id)
        .join(Intervention, Intervention.id == Assignment.intervention_id)
        .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .where(Assignment.status.in_((AssignmentStatus.ACCEPTED, AssignmentStatus.OFFERED)),
               Intervention.status != InterventionStatus.CANCELLED, Intervention.starts_at.is_not(None))
        .order_by(Assignment.trainer_id, Intervention.starts_at)).all()
    assert len(rows) > 50
    for earlier, later in zip(rows, rows[1:], strict=False):
        if earlier.trainer_id != later.trainer_id:
            continue
        busy = BusyPeriod(earlier.starts_at, earlier.ends_at, earlier.id, True, earlier.establishment_id,
                          travel_minutes_for(earlier.distance_km))
        assert not busy.collides(later.starts_at, later.ends_at, travel_minutes_for(later.distance_km),
                                 later.establishment_id), f"trainer {later.trainer_id}: {earlier.id}, {later.id}"
    sessions = db.session.execute(
        select(Intervention.id, Intervention.starts_at, Establishment)
        .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .join(Establishment, Establishment.id == InterventionRequest.establishment_id)
        .where(Intervention.starts_at.is_not(None), Intervention.status != InterventionStatus.CANCELLED)).all()
    for session_id, starts_at, place in sessions:
        day = to_local(starts_at, place.timezone).date()
        answer = check_day(place.departement_code, place.holiday_zone, day, place.kind.is_school)
        assert not answer.is_blocked and day.weekday() < 5, f"session {session_id} on {day}: {answer.blocked_reason}"


@pytest.mark.parametrize("today", [date(2026, 12, 7), date(2027, 5, 10)])
def test_every_offer_of_the_demo_may_still_be_answered_on_its_morning(app, today):
    """An offer left open in the demo is one its trainer may answer when the demo opens (09:00 UTC, the moment the
    demo is made at): the agenda's same-day session was once offered yesterday, past its deadline at once."""
    from datetime import UTC, datetime, time

    from app.models import Assignment, AssignmentStatus

    build_demo(2026, today)
    db.session.flush()
    morning = datetime.combine(today, time(9, 0), tzinfo=UTC)
    deadlines = db.session.scalars(select(Assignment.expires_at).where(
        Assignment.status == AssignmentStatus.OFFERED)).all()
    assert len(deadlines) > 10
    assert all(deadline.replace(tzinfo=UTC) > morning for deadline in deadlines)


def test_the_demo_trainers_see_remarks_reports_held_and_not_and_a_corrected_one(app):
    from app.domain.clock import utcnow
    from app.domain.reports import reports_due
    from app.models import Assignment, AssignmentStatus, Intervention, ReportCorrection, SessionReport

    build_demo(7, TODAY)
    db.session.commit()
    demo_trainers = db.session.scalars(select(Trainer).join(User).where(User.email.like("%@relais.demo"))).all()
    assert demo_trainers
    for trainer in demo_trainers:
        offered = db.session.scalars(select(Intervention).join(Assignment).where(
            Assignment.trainer_id == trainer.id, Assignment.status == AssignmentStatus.OFFERED)).all()
        assert offered and all(session.request.notes for session in offered), "offers show the requester's remarks"
        mine = db.session.scalars(select(SessionReport).where(SessionReport.trainer_id == trainer.id)).all()
        assert any(r.held for r in mine) and any(not r.held and r.not_held_code for r in mine)
        assert reports_due(db.session, trainer.id, utcnow()), "a session waits for its report"
        corrected = [r for r in mine if r.corrections]
        assert corrected and all(c.actor.role is Role.COORDINATOR for r in corrected for c in r.corrections)
    assert db.session.scalar(select(func.count(ReportCorrection.id))) >= 2 * len(demo_trainers)
