"""Loads what the matching needs for one session, in a fixed number of queries, and ranks it.

The pool is every trainer serving the session's département, whatever their force, so that the
coordinator also sees who is excluded and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import (
    CompoundSelect,
    Row,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from app.domain.availability import availability_bounds, load_availability, load_trainer_sessions
from app.domain.eligibility import SessionNeed, TrainerProfile, asked_answer, static_exclusions
from app.domain.planning import TrainerLimits, month_of, week_of
from app.domain.ranking import Ranking, Window, candidate_starts, rank_candidates
from app.domain.request_rules import MAX_DAYS_AHEAD, MAX_WINDOW_DAYS
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
# The furthest day a session can be asked for: the furthest window start a request may have, plus its length.
RANKING_HORIZON = timedelta(days=MAX_DAYS_AHEAD + MAX_WINDOW_DAYS)
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
        asked=frozenset((a.trainer_id, asked_answer(a.status.value, a.decline_reason))
                        for a in intervention.assignments),
    )


def _profiles_statement(condition) -> Select:
    # Each list of codes joined into one string per trainer, in the trainer's own row.
    lists = [select(func.aggregate_strings(table.c[column], ",")).where(table.c.trainer_id == Trainer.id)
             .scalar_subquery().label(name)
             for name, table, column in (("departements", trainer_departement, "departement_code"),
                                         ("topics", trainer_topic, "topic_code"),
                                         ("audiences", trainer_audience, "audience_code"))]
    return (select(Trainer.id, Trainer.active, Trainer.force, certified_since_column().label("certified_since"),
                   Trainer.max_distance_km, Trainer.accepts_pair_work, Trainer.max_sessions_per_week,
                   Trainer.max_sessions_per_month, Unit.latitude, Unit.longitude, *lists)
            .join(Unit, Unit.id == Trainer.unit_id).where(condition).order_by(Trainer.id))


@cache
def _pool_profiles_statement() -> Select:
    """The statement of `load_pool_profiles`, built once (see `_session_to_rank_statements`)."""
    return _profiles_statement(Trainer.id.in_(
        select(trainer_departement.c.trainer_id)
        .where(trainer_departement.c.departement_code == bindparam("departement_code"))))


def load_trainer_profiles(session: Session, condition) -> tuple[list[TrainerProfile], list[Row]]:
    """The profiles of the trainers matching `condition`, by id, and their limits (rows with `id`,
    `max_sessions_per_week`, `max_sessions_per_month`), from plain rows: one statement whatever the pool,
    and no ORM object built (the candidates page ranks a pool on every view, planning a month the country's)."""
    return _profiles(session.execute(_profiles_statement(condition)).all())


def load_pool_profiles(session: Session, departement_code: str) -> tuple[list[TrainerProfile], list[Row]]:
    """`load_trainer_profiles` of every trainer serving the département, the pool ranking one session reads."""
    return _profiles(session.execute(_pool_profiles_statement(), {"departement_code": departement_code}).all())


def _profiles(rows: list[Row]) -> tuple[list[TrainerProfile], list[Row]]:
    return [TrainerProfile(
        trainer_id=row.id, active=row.active, force=row.force.value,
        departement_codes=_codes(row.departements), topic_codes=_codes(row.topics),
        audience_codes=_codes(row.audiences), certified_since=row.certified_since,
        max_distance_km=row.max_distance_km, accepts_pair_work=row.accepts_pair_work,
        latitude=row.latitude, longitude=row.longitude) for row in rows], rows


def _codes(joined: str | None) -> frozenset[str]:
    return frozenset(joined.split(",")) if joined else frozenset()


def _month_bounds(first: date, last: date) -> tuple[date, date]:
    start = first.replace(day=1)
    following = (last.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start, following


def workload_bounds(starts: list[tuple[datetime, datetime]], timezone_name: str) -> tuple[datetime, datetime]:
    """The whole months around the starts (a week of margin: an ISO week may straddle two months), plus a day
    on each side for the zones: what `load_workloads` counts sessions over."""
    first, last = _month_bounds(to_local(starts[0][0], timezone_name).date() - timedelta(days=7),
                                to_local(starts[-1][0], timezone_name).date() + timedelta(days=7))
    low = datetime.combine(first, datetime.min.time(), tzinfo=starts[0][0].tzinfo) - timedelta(days=1)
    high = datetime.combine(last, datetime.min.time(), tzinfo=starts[0][0].tzinfo) + timedelta(days=1)
    return low, high


def load_workloads(session: Session, trainers: Sequence[Trainer | Row], starts: list[tuple[datetime, datetime]],
                   timezone_name: str, sessions: Sequence[Row] | None = None) -> dict[int, TrainerLimits]:
    """Sessions already accepted or offered per trainer, per ISO week and month around the starts (read from
    their `sessions` of `load_trainer_sessions` when given, covering at least `workload_bounds`)."""
    workloads = {t.id: TrainerLimits(t.id, t.max_sessions_per_week, t.max_sessions_per_month) for t in trainers}
    if not trainers or not starts:
        return workloads
    low, high = workload_bounds(starts, timezone_name)
    if sessions is None:
        sessions = load_trainer_sessions(session, list(workloads), low, high)
    week_used: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    month_used: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for row in sessions:
        if row.trainer_id in workloads and low <= row.starts_at < high:
            day = to_local(row.starts_at, timezone_name).date()
            week_used[row.trainer_id][week_of(day)] += 1
            month_used[row.trainer_id][month_of(day)] += 1
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
    returning_trainer_ids: frozenset[int]  # accepted one of the establishment's sessions in CONTINUITY_WINDOW
    saturday_classes: bool = False


@cache
def _session_to_rank_statements() -> tuple[Select, CompoundSelect, Select]:
    """The three statements of `load_session_to_rank`, built once with bound parameters: building them and
    their cache keys again on every view of the candidates page cost about as much as running them."""
    row = (
        select(Intervention.id, Intervention.request_id, Intervention.departement_code, Intervention.force,
               Intervention.trainers_needed, InterventionRequest.duration_minutes,
               Establishment.id.label("establishment_id"), Establishment.kind, Establishment.saturday_classes,
               Establishment.latitude,
               Establishment.longitude, Departement.latitude.label("departement_latitude"),
               Departement.longitude.label("departement_longitude"), Departement.timezone, Departement.holiday_zone)
        .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .join(Establishment, Establishment.id == InterventionRequest.establishment_id)
        .join(Departement, Departement.code == Establishment.departement_code)
        .where(Intervention.id == bindparam("intervention_id")))
    # Continuity: the trainers of the establishment's recent sessions, walked from its requests (a few), never
    # from every accepted assignment of the country. Their answer is read as the rows' tag, not filtered on:
    # SQLite (no planner statistics) would walk every accepted assignment by the status index instead.
    its_requests = select(InterventionRequest.id).where(
        InterventionRequest.establishment_id == bindparam("establishment_id"))
    recent_sessions = select(Intervention.id).where(Intervention.request_id.in_(its_requests),
                                                    Intervention.starts_at >= bindparam("since"),
                                                    Intervention.starts_at < bindparam("now"))
    # Topics, audiences, the trainers already asked and those who came, in one statement, each row tagged.
    lists = union_all(
        select(literal("topic"), request_topic.c.topic_code)
        .where(request_topic.c.request_id == bindparam("request_id")),
        select(literal("audience"), request_audience.c.audience_code)
        .where(request_audience.c.request_id == bindparam("request_id")),
        # The trainer and the reason an offer closed (`asked_answer` reads them), as one value.
        select(literal("asked:") + type_coerce(Assignment.status, String),
               cast(Assignment.trainer_id, String) + ASKED_SEPARATOR + func.coalesce(Assignment.decline_reason, ""))
        .where(Assignment.intervention_id == bindparam("intervention_id")),
        select(literal("came:") + type_coerce(Assignment.status, String), cast(Assignment.trainer_id, String))
        .where(Assignment.intervention_id.in_(recent_sessions)))
    windows = (
        select(RequestWindow.start_date, RequestWindow.end_date, RequestWindow.start_time, RequestWindow.end_time)
        .where(RequestWindow.request_id == bindparam("request_id"))
        .order_by(RequestWindow.start_date, RequestWindow.id))
    return row, lists, windows


ASKED_SEPARATOR = "|"


def _asked_pair(status: str, value: str) -> tuple[int, str]:
    trainer_id, _, decline_reason = value.partition(ASKED_SEPARATOR)
    return int(trainer_id), asked_answer(status, decline_reason or None)


def load_session_to_rank(session: Session, intervention_id: int, now: datetime) -> SessionToRank | None:
    """What ranking one session needs, as plain rows (the candidates page ranks on every view): the same
    need as `session_need` builds from loaded objects for a whole month of planning."""
    row_statement, lists_statement, windows_statement = _session_to_rank_statements()
    row = session.execute(row_statement, {"intervention_id": intervention_id}).one_or_none()
    if row is None:
        return None
    lists: dict[str, set] = defaultdict(set)
    for name, value in session.execute(lists_statement, {
            "request_id": row.request_id, "intervention_id": row.id, "establishment_id": row.establishment_id,
            "since": now - CONTINUITY_WINDOW, "now": now}):
        lists[name].add(value)
    topics, audiences = frozenset(lists["topic"]), frozenset(lists["audience"])
    asked = frozenset(_asked_pair(name.removeprefix("asked:"), value) for name, values in lists.items()
                      if name.startswith("asked:") for value in values)
    returning = frozenset(int(value) for value in lists[f"came:{AssignmentStatus.ACCEPTED.value}"])
    windows = [Window(*window) for window in session.execute(windows_statement, {"request_id": row.request_id})]
    need = SessionNeed(
        intervention_id=row.id, establishment_id=row.establishment_id, departement_code=row.departement_code,
        force=row.force.value if row.force else None, topic_codes=topics, audience_codes=audiences,
        latitude=row.latitude if row.latitude is not None else row.departement_latitude,
        longitude=row.longitude if row.longitude is not None else row.departement_longitude,
        timezone=row.timezone, trainers_needed=row.trainers_needed, asked=asked)
    return SessionToRank(need, windows, timedelta(minutes=row.duration_minutes), row.holiday_zone,
                         row.kind.is_school, returning, row.saturday_classes)


def rank_intervention(session: Session, intervention_id: int, now: datetime, max_starts: int | None = None
                      ) -> Ranking | None:
    """The ranked candidates of one session and the excluded trainers with reasons (None: unknown id); each
    candidate with its possible starts, every one or the first `max_starts`."""
    to_rank = load_session_to_rank(session, intervention_id, now)
    if to_rank is None:
        return None
    need = to_rank.need
    profiles, trainers = load_pool_profiles(session, need.departement_code)
    # Only the days that can still come: a window stored with absurd dates costs no more than a real one.
    today = to_local(now, need.timezone).date()
    starts = [s for s in candidate_starts(to_rank.windows, to_rank.duration, need.timezone, need.departement_code,
                                          to_rank.holiday_zone, to_rank.is_school, earliest=today,
                                          latest=today + RANKING_HORIZON, saturday_classes=to_rank.saturday_classes)
              if s[0] > now]
    # Availability and workload only for the trainers the time-independent rules leave (a few of the pool).
    eligible = {p.trainer_id for p in profiles if not static_exclusions(need, p, explain=False)}
    span_start = starts[0][0] if starts else now
    span_end = starts[-1][1] if starts else now
    # Their sessions read once for both the availability and the workload limits.
    low, high = availability_bounds(span_start, span_end)
    if starts:
        workload_low, workload_high = workload_bounds(starts, need.timezone)
        low, high = min(low, workload_low), max(high, workload_high)
    sessions = load_trainer_sessions(session, sorted(eligible), low, high)
    availabilities = load_availability(session, sorted(eligible), span_start, span_end, sessions)
    workloads = load_workloads(session, [t for t in trainers if t.id in eligible], starts, need.timezone, sessions)
    return rank_candidates(need, profiles, starts, workloads, availabilities, to_rank.returning_trainer_ids,
                           max_starts)
