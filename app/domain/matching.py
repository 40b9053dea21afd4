"""Loads what the matching needs for one session, in a fixed number of queries, and ranks it.

The pool is every trainer serving the session's département, whatever their force, so that the
coordinator also sees who is excluded and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Row, String, cast, literal, select, union_all
from sqlalchemy.orm import Session

from app.domain.availability import busy_statuses, load_availability
from app.domain.eligibility import SessionNeed, TrainerProfile, static_exclusions
from app.domain.planning import TrainerLimits, month_of, week_of
from app.domain.ranking import Ranking, Window, candidate_starts, rank_candidates
from app.domain.roster import certified_since_column
from app.domain.timezones import to_local
from app.models import (
    Assignment,
    AssignmentStatus,
    Departement,
    Establishment,
    Intervention,
    InterventionRequest,
    RequestWindow,
    Trainer,
    Unit,
)
from app.models.interventions import request_audience, request_topic
from app.models.trainers import trainer_audience, trainer_departement, trainer_topic

# Trainers who came to the establishment within this period count as "continuity".
CONTINUITY_WINDOW = timedelta(days=400)
CLOSED_OFFERS = (AssignmentStatus.DECLINED, AssignmentStatus.EXPIRED, AssignmentStatus.WITHDRAWN)


def session_need(intervention: Intervention) -> SessionNeed:
    request = intervention.request
    establishment = request.establishment
    departement = establishment.departement
    return SessionNeed(
        intervention_id=intervention.id,
        establishment_id=establishment.id,
        departement_code=intervention.departement_code,
        force=intervention.force.value if intervention.force else None,
        topic_codes=frozenset(topic.code for topic in request.topics),
        audience_codes=frozenset(audience.code for audience in request.audiences),
        latitude=establishment.latitude if establishment.latitude is not None else departement.latitude,
        longitude=establishment.longitude if establishment.longitude is not None else departement.longitude,
        timezone=departement.timezone,
        trainers_needed=intervention.trainers_needed,
        # Anyone already asked, whatever the answer, is not proposed again for this session.
        excluded_trainer_ids=frozenset(a.trainer_id for a in intervention.assignments),
    )


def load_trainer_profiles(session: Session, condition) -> tuple[list[TrainerProfile], list[Row]]:
    """The profiles of the trainers matching `condition`, by id, and their limits (rows with `id`,
    `max_sessions_per_week`, `max_sessions_per_month`), from plain rows: two statements whatever the pool,
    and no ORM object built (the candidates page ranks a pool on every view, planning a month the country's)."""
    rows = session.execute(
        select(Trainer.id, Trainer.active, Trainer.force,
               certified_since_column().label("certified_since"),
               Trainer.max_distance_km, Trainer.accepts_pair_work, Trainer.max_sessions_per_week,
               Trainer.max_sessions_per_month, Unit.latitude, Unit.longitude)
        .join(Unit, Unit.id == Trainer.unit_id).where(condition).order_by(Trainer.id)).all()
    pool = select(Trainer.id).where(condition)
    # The three lists of codes in one statement, each row tagged with its list.
    lists = [select(literal(name).label("list"), table.c.trainer_id, table.c[column].label("code"))
             .where(table.c.trainer_id.in_(pool))
             for name, table, column in (("departements", trainer_departement, "departement_code"),
                                         ("topics", trainer_topic, "topic_code"),
                                         ("audiences", trainer_audience, "audience_code"))]
    codes: dict[str, dict[int, set[str]]] = {name: defaultdict(set) for name in ("departements", "topics", "audiences")}
    for name, trainer_id, code in session.execute(union_all(*lists)):
        codes[name][trainer_id].add(code)
    profiles = [TrainerProfile(
        trainer_id=row.id, active=row.active, force=row.force.value,
        departement_codes=frozenset(codes["departements"][row.id]), topic_codes=frozenset(codes["topics"][row.id]),
        audience_codes=frozenset(codes["audiences"][row.id]), certified_since=row.certified_since,
        max_distance_km=row.max_distance_km, accepts_pair_work=row.accepts_pair_work,
        latitude=row.latitude, longitude=row.longitude) for row in rows]
    return profiles, rows


def _month_bounds(first: date, last: date) -> tuple[date, date]:
    start = first.replace(day=1)
    following = (last.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start, following


def load_workloads(session: Session, trainers: Sequence[Trainer | Row], starts: list[tuple[datetime, datetime]],
                   timezone_name: str) -> dict[int, TrainerLimits]:
    """Sessions already accepted or offered per trainer, per ISO week and month around the starts."""
    workloads = {t.id: TrainerLimits(t.id, t.max_sessions_per_week, t.max_sessions_per_month) for t in trainers}
    if not trainers or not starts:
        return workloads
    first, last = _month_bounds(to_local(starts[0][0], timezone_name).date() - timedelta(days=7),
                                to_local(starts[-1][0], timezone_name).date() + timedelta(days=7))
    low = datetime.combine(first, datetime.min.time(), tzinfo=starts[0][0].tzinfo) - timedelta(days=1)
    high = datetime.combine(last, datetime.min.time(), tzinfo=starts[0][0].tzinfo) + timedelta(days=1)
    rows = session.execute(
        select(Assignment.trainer_id, Intervention.starts_at)
        .join(Intervention, Intervention.id == Assignment.intervention_id)
        .where(Assignment.trainer_id.in_(workloads), Assignment.status.in_(busy_statuses()),
               Intervention.starts_at >= low, Intervention.starts_at < high))
    week_used: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    month_used: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for trainer_id, starts_at in rows:
        day = to_local(starts_at, timezone_name).date()
        week_used[trainer_id][week_of(day)] += 1
        month_used[trainer_id][month_of(day)] += 1
    first_month = month_of(to_local(starts[0][0], timezone_name).date())
    for trainer_id, workload in workloads.items():
        workload.week_used = dict(week_used[trainer_id])
        workload.month_used = dict(month_used[trainer_id])
        workload.load = workload.month_used.get(first_month, 0)
    return workloads


@dataclass(frozen=True)
class SessionToRank:
    need: SessionNeed
    windows: list[Window]
    duration: timedelta
    holiday_zone: str | None
    is_school: bool


def load_session_to_rank(session: Session, intervention_id: int) -> SessionToRank | None:
    """What ranking one session needs, as plain rows (the candidates page ranks on every view): the same
    need as `session_need` builds from loaded objects for a whole month of planning."""
    row = session.execute(
        select(Intervention.id, Intervention.request_id, Intervention.departement_code, Intervention.force,
               Intervention.trainers_needed, InterventionRequest.duration_minutes,
               Establishment.id.label("establishment_id"), Establishment.kind, Establishment.latitude,
               Establishment.longitude, Departement.latitude.label("departement_latitude"),
               Departement.longitude.label("departement_longitude"), Departement.timezone, Departement.holiday_zone)
        .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .join(Establishment, Establishment.id == InterventionRequest.establishment_id)
        .join(Departement, Departement.code == Establishment.departement_code)
        .where(Intervention.id == intervention_id)).one_or_none()
    if row is None:
        return None
    # Topics, audiences and the trainers already asked, in one statement, each row tagged with its list.
    lists: dict[str, set] = {"topic": set(), "audience": set(), "asked": set()}
    for name, value in session.execute(union_all(
            select(literal("topic"), request_topic.c.topic_code).where(request_topic.c.request_id == row.request_id),
            select(literal("audience"), request_audience.c.audience_code)
            .where(request_audience.c.request_id == row.request_id),
            select(literal("asked"), cast(Assignment.trainer_id, String)).where(Assignment.intervention_id == row.id))):
        lists[name].add(value)
    topics, audiences = frozenset(lists["topic"]), frozenset(lists["audience"])
    asked = frozenset(int(value) for value in lists["asked"])
    windows = [Window(*window) for window in session.execute(
        select(RequestWindow.start_date, RequestWindow.end_date, RequestWindow.start_time, RequestWindow.end_time)
        .where(RequestWindow.request_id == row.request_id).order_by(RequestWindow.start_date, RequestWindow.id))]
    need = SessionNeed(
        intervention_id=row.id, establishment_id=row.establishment_id, departement_code=row.departement_code,
        force=row.force.value if row.force else None, topic_codes=topics, audience_codes=audiences,
        latitude=row.latitude if row.latitude is not None else row.departement_latitude,
        longitude=row.longitude if row.longitude is not None else row.departement_longitude,
        timezone=row.timezone, trainers_needed=row.trainers_needed, excluded_trainer_ids=asked)
    return SessionToRank(need, windows, timedelta(minutes=row.duration_minutes), row.holiday_zone,
                         row.kind.is_school)


def rank_intervention(session: Session, intervention_id: int, now: datetime, max_starts: int | None = None
                      ) -> Ranking | None:
    """The ranked candidates of one session and the excluded trainers with reasons (None: unknown id); each
    candidate with its possible starts, every one or the first `max_starts`."""
    to_rank = load_session_to_rank(session, intervention_id)
    if to_rank is None:
        return None
    need = to_rank.need
    profiles, trainers = load_trainer_profiles(
        session, Trainer.id.in_(select(trainer_departement.c.trainer_id)
                                .where(trainer_departement.c.departement_code == need.departement_code)))
    starts = [s for s in candidate_starts(to_rank.windows, to_rank.duration, need.timezone, need.departement_code,
                                          to_rank.holiday_zone, to_rank.is_school) if s[0] > now]
    # Availability and workload only for the trainers the time-independent rules leave (a few of the pool).
    eligible = {p.trainer_id for p in profiles if not static_exclusions(need, p)}
    span_start = starts[0][0] if starts else now
    span_end = starts[-1][1] if starts else now
    availabilities = load_availability(session, sorted(eligible), span_start, span_end)
    workloads = load_workloads(session, [t for t in trainers if t.id in eligible], starts, need.timezone)
    # Walked from the establishment's requests (a few), never from every accepted assignment of the country.
    its_requests = select(InterventionRequest.id).where(InterventionRequest.establishment_id == need.establishment_id)
    recent_sessions = select(Intervention.id).where(Intervention.request_id.in_(its_requests),
                                                    Intervention.starts_at >= now - CONTINUITY_WINDOW,
                                                    Intervention.starts_at < now)
    # The status is read, not filtered on: SQLite (no planner statistics) would walk every accepted assignment
    # of the country by the status index instead of the few assignments of these sessions.
    returning = frozenset(trainer_id for trainer_id, status in session.execute(
        select(Assignment.trainer_id, Assignment.status).distinct()
        .where(Assignment.intervention_id.in_(recent_sessions))) if status is AssignmentStatus.ACCEPTED)
    return rank_candidates(need, profiles, starts, workloads, availabilities, returning, max_starts)
