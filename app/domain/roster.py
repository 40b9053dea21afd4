"""The roster of trainers: scope, filters, counts, and the changes trainers and coordinators make.

Plain Python on a SQLAlchemy session; views, the CLI and jobs call these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, joinedload

from app.domain.certification import VALIDITY, WARNING_WINDOW, CertificationState
from app.domain.policies import TRAINERS
from app.domain.refusals import Refused
from app.domain.timezones import to_local, to_utc
from app.domain.vocabulary import topic_label
from app.models import (
    Assignment,
    AssignmentStatus,
    AvailabilityException,
    AvailabilityPattern,
    Departement,
    ExceptionKind,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    Topic,
    Trainer,
    Unit,
    User,
)
from app.models.trainers import trainer_departement, trainer_topic

ROSTER_PAGE_SIZE = 50
# The quick grid of the availability form: half-days of a school day.
MORNING = (time(8, 0), time(12, 0))
AFTERNOON = (time(13, 30), time(17, 30))
HALF_DAYS = {"matin": MORNING, "apres-midi": AFTERNOON}
GRID_WEEKDAYS = range(6)  # Monday to Saturday: some adult audiences are met on Saturdays


# -- scope ------------------------------------------------------------------------------------------


def trainer_timezone(session: Session, trainer: Trainer) -> str:
    """The zone of the trainer's unit: their weekly pattern is in its wall-clock time."""
    return session.scalar(select(Departement.timezone).where(Departement.code == trainer.unit.departement_code))


# -- certification in SQL -----------------------------------------------------------------------------


def certified_since_column():
    return func.coalesce(Trainer.last_refresher_on, Trainer.initial_training_on)


def certification_condition(state: CertificationState, today: date) -> ColumnElement[bool]:
    """The state of `certification_status` as a portable condition (no date arithmetic in SQL)."""
    since = certified_since_column()
    lapsed_before = today - VALIDITY  # valid_until = since + VALIDITY < today
    expiring_until = today - VALIDITY + WARNING_WINDOW
    if state is CertificationState.LAPSED:
        return since < lapsed_before
    if state is CertificationState.EXPIRING:
        return and_(since >= lapsed_before, since <= expiring_until)
    return since > expiring_until


# -- the roster page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterFilters:
    force: Force | None = None
    departement_code: str | None = None
    topic_code: str | None = None
    certification: CertificationState | None = None
    active: bool | None = True
    search: str = ""


@dataclass(frozen=True)
class RosterRow:
    trainer: Row  # the columns of ROSTER_COLUMNS, by name
    sessions_this_month: int
    departement_codes: tuple[str, ...]
    topic_labels: tuple[str, ...]  # in the programme's order


def month_bounds(today: date, timezone_name: str) -> tuple[datetime, datetime]:
    """The current calendar month as UTC instants, in the given zone."""
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return to_utc(first, time(0), timezone_name), to_utc(following, time(0), timezone_name)


def accepted_sessions_by_trainer(session: Session, trainer_ids: Sequence[int], start: datetime, end: datetime
                                 ) -> dict[int, int]:
    """trainer_id -> accepted sessions starting in [start, end), not cancelled: only for these trainers."""
    if not trainer_ids:
        return {}
    parameters = {"trainer_ids": list(trainer_ids), "start": start, "end": end}
    return dict(session.execute(_month_counts_statement(), parameters).all())


# The roster reads these two for every page it shows: built once with bound parameters, since building them and
# their cache keys each time was a good part of the page.
@cache
def _month_counts_statement() -> Select:
    return (select(Assignment.trainer_id, func.count())  # count(*): the index alone answers
            .join(Intervention, Intervention.id == Assignment.intervention_id)
            .where(Assignment.trainer_id.in_(bindparam("trainer_ids", expanding=True)),
                   Assignment.status == AssignmentStatus.ACCEPTED, Intervention.status != InterventionStatus.CANCELLED,
                   Intervention.starts_at >= bindparam("start"), Intervention.starts_at < bindparam("end"))
            .group_by(Assignment.trainer_id))


@cache
def _code_lists_statement() -> CompoundSelect:
    """Each trainer's codes joined into one string per list, in one statement: a row per trainer and list
    rather than one per code (about 500 for a page), put in order by the caller."""
    trainer_ids = bindparam("trainer_ids", expanding=True)
    return union_all(*(select(literal(name).label("list"), table.c.trainer_id,
                              func.aggregate_strings(table.c[column], ",").label("codes"))
                       .where(table.c.trainer_id.in_(trainer_ids)).group_by(table.c.trainer_id)
                       for name, table, column in (("departements", trainer_departement, "departement_code"),
                                                   ("topics", trainer_topic, "topic_code"))))


def roster_query(user: User, filters: RosterFilters, today: date) -> Select:
    """Trainers of the user's scope matching the filters (no ordering, no counts)."""
    query = select(Trainer).join(User, User.id == Trainer.user_id).where(TRAINERS.rows(user))
    if filters.force:
        query = query.where(Trainer.force == filters.force)
    if filters.departement_code:
        query = query.where(Trainer.id.in_(select(trainer_departement.c.trainer_id).where(
            trainer_departement.c.departement_code == filters.departement_code)))
    if filters.topic_code:
        query = query.where(Trainer.id.in_(select(trainer_topic.c.trainer_id).where(
            trainer_topic.c.topic_code == filters.topic_code)))
    if filters.certification:
        query = query.where(certification_condition(filters.certification, today))
    if filters.active is not None:
        query = query.where(Trainer.active.is_(filters.active))
    if filters.search:
        pattern = f"%{filters.search.lower()}%"
        query = query.where(or_(func.lower(User.full_name).like(pattern), Trainer.matricule.like(pattern),
                                func.lower(User.email).like(pattern)))
    return query


ROSTER_COLUMNS = (Trainer.id, User.full_name, Trainer.rank, Trainer.force, Trainer.matricule,
                  Unit.name.label("unit_name"), Trainer.max_sessions_per_month, Trainer.active,
                  Trainer.inactive_reason, certified_since_column().label("certified_since"))


def roster_page(session: Session, user: User, filters: RosterFilters, today: date, timezone_name: str,
                after: int | None = None, limit: int = ROSTER_PAGE_SIZE) -> tuple[list[RosterRow], int | None]:
    """One page of the roster sorted by name, with this month's sessions; and the key of the next page.

    Keyset pagination on (name, id), and a fixed number of queries whatever the page size.
    """
    # Plain rows, not Trainer objects: a page is read on every view, and fifty ORM objects (with their user
    # and unit) cost more than the rest of the page's SQL.
    query = (roster_query(user, filters, today).with_only_columns(*ROSTER_COLUMNS)
             .join(Unit, Unit.id == Trainer.unit_id).order_by(User.full_name, Trainer.id))
    if after:
        last_name = session.scalar(select(User.full_name).join(Trainer, Trainer.user_id == User.id)
                                   .where(Trainer.id == after))
        if last_name is not None:
            # The `>=` lets the name index start at the last name instead of the first (the OR alone cannot).
            query = query.where(User.full_name >= last_name,
                                or_(User.full_name > last_name, and_(User.full_name == last_name, Trainer.id > after)))
    trainers = session.execute(query.limit(limit + 1)).all()
    shown = trainers[:limit]
    ids = [t.id for t in shown]
    # For the page only, and as plain rows: the roster walks the name order and stops after one page.
    start, end = month_bounds(today, timezone_name)
    counts = accepted_sessions_by_trainer(session, ids, start, end)
    departements: dict[int, tuple[str, ...]] = {}
    topics: dict[int, tuple[str, ...]] = {}
    if ids:
        topic_labels = {code: (position, topic_label(code)) for code, position
                        in session.execute(select(Topic.code, Topic.position))}
        for name, trainer_id, codes in session.execute(_code_lists_statement(), {"trainer_ids": ids}).all():
            if name == "departements":
                departements[trainer_id] = tuple(sorted(codes.split(",")))
            else:
                in_programme_order = sorted(topic_labels[code] for code in codes.split(","))
                topics[trainer_id] = tuple(label for _, label in in_programme_order)
    page = [RosterRow(t, counts.get(t.id, 0), departements.get(t.id, ()), topics.get(t.id, ())) for t in shown]
    next_after = page[-1].trainer.id if len(trainers) > limit else None
    return page, next_after


def roster_total(session: Session, user: User, filters: RosterFilters, today: date) -> int:
    return session.scalar(select(func.count()).select_from(roster_query(user, filters, today).subquery()))


def accepted_sessions_between(session: Session, trainer_id: int, start: datetime, end: datetime) -> int:
    return accepted_sessions_by_trainer(session, [trainer_id], start, end).get(trainer_id, 0)


# -- availability edits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotInput:
    weekday: int
    start: time
    end: time


def grid_and_custom(patterns: Sequence[AvailabilityPattern]) -> tuple[set[tuple[int, str]], list[SlotInput]]:
    """Splits saved patterns into the quick grid's ticked half-days and the other (custom) slots."""
    ticked: set[tuple[int, str]] = set()
    custom: list[SlotInput] = []
    for pattern in patterns:
        half_day = next((name for name, (start, end) in HALF_DAYS.items()
                         if (pattern.start_time, pattern.end_time) == (start, end)), None)
        if half_day and pattern.weekday in GRID_WEEKDAYS:
            ticked.add((pattern.weekday, half_day))
        else:
            custom.append(SlotInput(pattern.weekday, pattern.start_time, pattern.end_time))
    return ticked, custom


def replace_weekly_pattern(trainer: Trainer, ticked: set[tuple[int, str]], custom: Sequence[SlotInput],
                           valid_from: date | None, valid_until: date | None) -> None:
    """The weekly pattern becomes exactly the ticked half-days plus the custom slots."""
    slots = {(weekday, *HALF_DAYS[half_day]) for weekday, half_day in ticked}
    slots |= {(slot.weekday, slot.start, slot.end) for slot in custom}
    trainer.patterns = [AvailabilityPattern(weekday=weekday, start_time=start, end_time=end,
                                            valid_from=valid_from, valid_until=valid_until)
                        for weekday, start, end in sorted(slots)]


def add_exception(trainer: Trainer, kind: ExceptionKind, start_day: date, start_time: time | None,
                  end_day: date, end_time: time | None, reason: str | None, timezone_name: str, now: datetime
                  ) -> AvailabilityException:
    """A period given in local dates and times; without times it covers whole days. Refused when it ends before
    it starts or is already over."""
    starts_at = to_utc(start_day, start_time or time(0), timezone_name)
    ends_at = (to_utc(end_day, end_time, timezone_name) if end_time
               else to_utc(end_day + timedelta(days=1), time(0), timezone_name))
    if ends_at <= starts_at:
        raise Refused("period_reversed")
    if ends_at <= now:
        raise Refused("period_past")
    exception = AvailabilityException(kind=kind, starts_at=starts_at, ends_at=ends_at, reason=reason or None)
    trainer.exceptions.append(exception)
    return exception


@dataclass(frozen=True)
class ShownPeriod:
    """An availability exception as its trainer entered it: whole days as first and last day (inclusive),
    otherwise with the local times."""

    id: int
    kind: ExceptionKind
    reason: str | None
    first_day: date
    last_day: date
    start_time: time | None  # None: from the start of the first day
    end_time: time | None  # None: to the end of the last day


def shown_period(exception: AvailabilityException, timezone_name: str) -> ShownPeriod:
    """The inverse of `add_exception`: a period ending at midnight ends on the day before, whole."""
    start, end = to_local(exception.starts_at, timezone_name), to_local(exception.ends_at, timezone_name)
    whole_end = end.time() == time(0) and end.date() > start.date()
    return ShownPeriod(id=exception.id, kind=exception.kind, reason=exception.reason, first_day=start.date(),
                       last_day=end.date() - timedelta(days=1) if whole_end else end.date(),
                       start_time=None if start.time() == time(0) else start.time(),
                       end_time=None if whole_end else end.time())


def upcoming_periods(trainer: Trainer, timezone_name: str, now: datetime) -> list[ShownPeriod]:
    """The trainer's exceptions not over yet, as entered."""
    return [shown_period(e, timezone_name) for e in trainer.exceptions if e.ends_at > now]


def upcoming_busy(session: Session, trainer_id: int, now: datetime, limit: int = 10) -> list[tuple]:
    """The trainer's next sessions, accepted or offered (an offer while it may be answered): (intervention,
    assignment status)."""
    return session.execute(
        select(Intervention, Assignment.status)
        .join(Assignment, Assignment.intervention_id == Intervention.id)
        .where(Assignment.trainer_id == trainer_id,
               or_(Assignment.status == AssignmentStatus.ACCEPTED, Assignment.open_offer(now)),
               Intervention.status != InterventionStatus.CANCELLED, Intervention.ends_at > now)
        .options(joinedload(Intervention.request).joinedload(InterventionRequest.establishment))
        .order_by(Intervention.starts_at).limit(limit)).all()
