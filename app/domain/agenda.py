"""The agenda: the sessions of a week or a month laid out by trainer and day, for the coordination (every trainer
of its territory) and for a trainer (their own month, with their unavailabilities).

Read queries only, in a fixed number of statements whatever the rows: the trainers of one page (keyset on name
and id), their sessions of the period, their unavailabilities. Days are the local days of the place of each
session (an overseas département has its own), and of the trainer's unit for an unavailability.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from app.domain.policies import ASSIGNMENTS, LIVE_ASSIGNMENT, SESSIONS, TRAINERS
from app.domain.timezones import to_local
from app.models import (
    Assignment,
    AssignmentStatus,
    AvailabilityException,
    Departement,
    Establishment,
    ExceptionKind,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    Role,
    Trainer,
    Unit,
    User,
)
from app.models.trainers import trainer_departement

PAGE_SIZE = 40  # trainers per page of the coordination's week: a national scope has more than a thousand
MONTH_PAGE_SIZE = 25  # and of its month, four times as many days
# Zones run from UTC−10 to UTC+12: a local day lies within this margin around the same UTC day.
ZONE_MARGIN = timedelta(hours=14)


class EntryState(StrEnum):
    """What a trainer's line says of a session. A pending offer and a confirmed session look different, and a
    cancelled one stays visible (where the trainer would have been) rather than vanish."""

    PENDING = "pending"  # offered, waiting for the trainer's answer
    ACCEPTED = "accepted"  # accepted, the session waits for its second trainer
    CONFIRMED = "confirmed"
    DONE = "done"
    NOT_HELD = "not_held"
    CANCELLED = "cancelled"
    UNSTAFFED = "unstaffed"  # a time, nobody on it (offers declined or expired)


@dataclass(frozen=True)
class Period:
    """A week (Monday to Sunday) or a calendar month."""

    kind: str  # "week" or "month"
    first: date
    last: date

    @classmethod
    def of(cls, kind: str, day: date) -> Period:
        if kind == "week":
            monday = day - timedelta(days=day.weekday())
            return cls("week", monday, monday + timedelta(days=6))
        first = day.replace(day=1)
        return cls("month", first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def previous(self) -> date:
        if self.kind == "week":
            return self.first - timedelta(days=7)
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return self.last + timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last

    @property
    def weeks(self) -> list[list[date]]:
        """The Monday-to-Sunday weeks that cover the period (a month grid starts and ends with other months' days)."""
        monday = self.first - timedelta(days=self.first.weekday())
        weeks = []
        while monday <= self.last:
            weeks.append([monday + timedelta(days=n) for n in range(7)])
            monday += timedelta(days=7)
        return weeks

    def utc_bounds(self, first: date | None = None, last: date | None = None) -> tuple[datetime, datetime]:
        """Instants that hold every local day of the period, in any zone (the days themselves are sorted in Python)."""
        start = datetime.combine(first or self.first, time(0), tzinfo=UTC) - ZONE_MARGIN
        end = datetime.combine((last or self.last) + timedelta(days=1), time(0), tzinfo=UTC) + ZONE_MARGIN
        return start, end


@dataclass(frozen=True)
class AgendaFilters:
    departement: str | None = None
    force: Force | None = None
    trainer_id: int | None = None
    establishment_id: int | None = None


@dataclass(frozen=True)
class Entry:
    """One session on one trainer's line (or on the line of sessions nobody staffs), in the place's local time."""

    intervention_id: int
    request_id: int
    assignment_id: int | None
    trainer_id: int | None
    state: EntryState
    starts_at: datetime  # local
    ends_at: datetime  # local
    timezone: str
    departement_name: str  # where the time is local: « heure de La Réunion »
    establishment_id: int
    establishment_name: str
    group_label: str

    @property
    def day(self) -> date:
        return self.starts_at.date()


@dataclass(frozen=True)
class Absence:
    """An unavailability of a trainer, in the local time of their unit."""

    starts_at: datetime
    ends_at: datetime
    reason: str | None

    def covers(self, day: date) -> bool:
        begin = datetime.combine(day, time(0), tzinfo=self.starts_at.tzinfo)
        return self.starts_at < begin + timedelta(days=1) and self.ends_at > begin

    @property
    def last_day(self) -> date:
        """The last day it covers: an absence ending at midnight ends the day before."""
        end = self.ends_at
        return (end - timedelta(microseconds=1)).date() if end.time() == time(0) else end.date()


@dataclass
class AgendaRow:
    trainer_id: int | None
    name: str
    rank: str = ""
    force: Force | None = None
    in_territory: bool = False  # the person may open the trainer's page (a trainer from elsewhere may be staffed)
    entries: dict[date, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    absences: dict[date, list[Absence]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class TeamAgenda:
    period: Period
    rows: list[AgendaRow]  # the unstaffed sessions' line first (on the first page), then one per trainer
    next_after: int | None  # key of the next page of trainers
    counts: Counter  # entries of the page by state


@dataclass
class TrainerAgenda:
    period: Period
    entries: dict[date, list[Entry]]
    absences: dict[date, list[Absence]]
    counts: Counter
    timezone: str

    @property
    def busy_days(self) -> list[date]:
        """The days of the period with a session or an unavailability, in order: the list layout."""
        return sorted(day for day in {*self.entries, *self.absences} if self.period.contains(day))


# -- what a session is on a trainer's line ----------------------------------------------------------------


def entry_state(intervention_status: InterventionStatus, assignment_status: AssignmentStatus | None) -> EntryState:
    if intervention_status is InterventionStatus.CANCELLED:
        return EntryState.CANCELLED
    if assignment_status is None:
        return EntryState.UNSTAFFED
    if assignment_status is AssignmentStatus.OFFERED:
        return EntryState.PENDING
    return {InterventionStatus.DONE: EntryState.DONE, InterventionStatus.NOT_HELD: EntryState.NOT_HELD,
            InterventionStatus.CONFIRMED: EntryState.CONFIRMED}.get(intervention_status, EntryState.ACCEPTED)


@cache  # built once: an alias and its correlated subquery cost more to build than the query takes to run
def _on_the_session() -> ColumnElement[bool]:
    """The assignments a line shows: live ones, and for a cancelled session those its cancellation withdrew (the
    latest withdrawals: a trainer withdrawn earlier, by the coordination, was no longer on it)."""
    earlier = aliased(Assignment)
    cancelled_with = select(func.max(earlier.answered_at)).where(
        earlier.intervention_id == Intervention.id, earlier.status == AssignmentStatus.WITHDRAWN).scalar_subquery()
    # The status read as text, so that no index serves it: SQLite, without statistics, would read every live
    # assignment of the country through the status index instead of the period's sessions through their start.
    shown = [status.value for status in (*LIVE_ASSIGNMENT, AssignmentStatus.WITHDRAWN)]
    return and_(Assignment.intervention_id == Intervention.id, cast(Assignment.status, String).in_(shown),
                or_(Assignment.status != AssignmentStatus.WITHDRAWN,
                    and_(Intervention.status == InterventionStatus.CANCELLED,
                         Assignment.answered_at == cancelled_with)))


ENTRY_COLUMNS = (Intervention.id, Intervention.request_id, Intervention.status, Intervention.starts_at,
                 Intervention.ends_at, Intervention.group_label, Assignment.id.label("assignment_id"),
                 Assignment.trainer_id, Assignment.status.label("assignment_status"),
                 Establishment.id.label("establishment_id"), Establishment.name.label("establishment_name"),
                 Departement.timezone, Departement.name.label("departement_name"))


def _entries(period: Period, sessions: ColumnElement[bool], assignments: ColumnElement[bool] = true(),
             *, staffed_only: bool = False) -> Select:
    start, end = period.utc_bounds()
    query = (select(*ENTRY_COLUMNS)
             .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
             .join(Establishment, Establishment.id == InterventionRequest.establishment_id)
             .join(Departement, Departement.code == Establishment.departement_code))
    join = query.join if staffed_only else query.outerjoin
    return (join(Assignment, _on_the_session()).where(Intervention.starts_at >= start, Intervention.starts_at < end,
                                                      sessions, assignments))


def _entry(row) -> Entry:
    return Entry(row.id, row.request_id, row.assignment_id, row.trainer_id,
                 entry_state(InterventionStatus(row.status), row.assignment_status and AssignmentStatus(
                     row.assignment_status)),
                 to_local(row.starts_at, row.timezone), to_local(row.ends_at, row.timezone), row.timezone,
                 row.departement_name, row.establishment_id, row.establishment_name, row.group_label)


# -- the coordination's agenda -------------------------------------------------------------------------------


def session_filter(user: User, filters: AgendaFilters) -> ColumnElement[bool]:
    """The sessions of the person's territory narrowed by the filters (the trainer's is on the assignments)."""
    conditions = [SESSIONS.rows(user)]
    if filters.departement:
        conditions.append(Intervention.departement_code == filters.departement)
    if filters.force:
        conditions.append(Intervention.force == filters.force)
    if filters.establishment_id:
        conditions.append(InterventionRequest.establishment_id == filters.establishment_id)
    return and_(*conditions)


def _trainers_of_scope(user: User, filters: AgendaFilters) -> ColumnElement[bool]:
    """The active trainers of the territory (and of the département and force chosen), shown even on a free week:
    the agenda is where one sees who is free."""
    if filters.establishment_id:
        return false()  # an establishment's agenda: the trainers who go there
    conditions = [Trainer.active.is_(True), TRAINERS.rows(user)]
    if filters.departement:
        conditions.append(exists().where(trainer_departement.c.trainer_id == Trainer.id,
                                         trainer_departement.c.departement_code == filters.departement))
    if filters.force:
        conditions.append(Trainer.force == filters.force)
    return and_(*conditions)


def team_agenda(session: Session, user: User, period: Period, filters: AgendaFilters, *, after: int | None = None,
                limit: int = PAGE_SIZE, whole_territory: bool = True) -> TeamAgenda:
    """One page of trainers of the person's territory, with their sessions and unavailabilities of the period,
    preceded on the first page by the sessions with a time and nobody on them. Without `whole_territory` (the
    whole country), only the trainers with a session in the period, and no line of unstaffed sessions. Three
    statements."""
    sessions = session_filter(user, filters)
    # Who works in the period: from the sessions' start index to their assignments, and no further.
    start, end = period.utc_bounds()
    staffed = (select(Assignment.trainer_id).select_from(Intervention).join(Assignment, _on_the_session())
               .where(Intervention.starts_at >= start, Intervention.starts_at < end, sessions))
    if filters.establishment_id:
        staffed = staffed.join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
    if filters.trainer_id:
        staffed = staffed.where(Assignment.trainer_id == filters.trainer_id)
    # The territory's trainers first: the country's list of who works this week is only needed for the others.
    shown = or_(_trainers_of_scope(user, filters), Trainer.id.in_(staffed)) if whole_territory else Trainer.id.in_(
        staffed)
    if filters.trainer_id:
        shown = and_(Trainer.id == filters.trainer_id, shown)
    query = (select(Trainer.id, User.full_name, Trainer.rank, Trainer.force,
                    TRAINERS.rows(user).label("in_territory"))
             .join(User, User.id == Trainer.user_id).where(shown).order_by(User.full_name, Trainer.id))
    if after:
        last_name = select(User.full_name).join(Trainer, Trainer.user_id == User.id).where(
            Trainer.id == after).scalar_subquery()
        query = query.where(User.full_name >= last_name,
                            or_(User.full_name > last_name, and_(User.full_name == last_name, Trainer.id > after)))
    trainers = session.execute(query.limit(limit + 1)).all()
    page = trainers[:limit]
    rows = {t.id: AgendaRow(t.id, t.full_name, t.rank, Force(t.force), bool(t.in_territory)) for t in page}
    unstaffed = AgendaRow(None, "")
    ids = list(rows)
    first_page = whole_territory and not after and not filters.trainer_id
    assignments = Assignment.trainer_id.in_(ids) if ids else false()
    if first_page:
        assignments = or_(assignments, Assignment.id.is_(None))
    counts: Counter = Counter()
    if ids or first_page:
        # Without the line of unstaffed sessions, an inner join: the page's trainers' assignments lead the way
        # rather than every session of the period in the country.
        statement = (_entries(period, sessions, assignments, staffed_only=not first_page)
                     .order_by(Intervention.starts_at, Intervention.id))
        for row in session.execute(statement):
            entry = _entry(row)
            if not period.contains(entry.day):
                continue
            (rows[entry.trainer_id] if entry.trainer_id else unstaffed).entries[entry.day].append(entry)
            counts[entry.state] += 1
    _add_absences(session, period, rows)
    result = list(rows.values())
    if unstaffed.entries:
        result.insert(0, unstaffed)
    return TeamAgenda(period, result, page[-1].id if len(trainers) > limit else None, counts)


def _add_absences(session: Session, period: Period, rows: dict[int, AgendaRow]) -> None:
    if not rows:
        return
    start, end = period.utc_bounds()
    statement = (select(AvailabilityException.trainer_id, AvailabilityException.starts_at,
                        AvailabilityException.ends_at, AvailabilityException.reason, Departement.timezone)
                 .join(Trainer, Trainer.id == AvailabilityException.trainer_id)
                 .join(Unit, Unit.id == Trainer.unit_id).join(Departement, Departement.code == Unit.departement_code)
                 .where(AvailabilityException.trainer_id.in_(list(rows)),
                        AvailabilityException.kind == ExceptionKind.UNAVAILABLE,
                        AvailabilityException.starts_at < end, AvailabilityException.ends_at > start)
                 .order_by(AvailabilityException.starts_at))
    for row in session.execute(statement):
        absence = Absence(to_local(row.starts_at, row.timezone), to_local(row.ends_at, row.timezone), row.reason)
        for day in period.days:
            if absence.covers(day):
                rows[row.trainer_id].absences[day].append(absence)


def trainer_options(session: Session, user: User, filters: AgendaFilters) -> list[tuple[int, str]]:
    """(id, name) of the active trainers of the territory, département and force chosen, for the trainer filter."""
    query = (select(Trainer.id, User.full_name).join(User, User.id == Trainer.user_id)
             .where(_trainers_of_scope(user, AgendaFilters(filters.departement, filters.force)))
             .order_by(User.full_name, Trainer.id))
    return [(row.id, row.full_name) for row in session.execute(query)]


def establishment_options(session: Session, user: User, period: Period, filters: AgendaFilters
                          ) -> list[tuple[int, str]]:
    """(id, name) of the establishments with a session in the period (around it: a day's margin), for the filter."""
    start, end = period.utc_bounds()
    sessions = session_filter(user, AgendaFilters(filters.departement, filters.force))
    # From the period's sessions (the index on their start) to their establishments, not the other way round: an
    # EXISTS per establishment walks the country's six thousand.
    places = (select(InterventionRequest.establishment_id)
              .join(Intervention, Intervention.request_id == InterventionRequest.id)
              .where(Intervention.starts_at >= start, Intervention.starts_at < end, sessions))
    query = (select(Establishment.id, Establishment.name).where(Establishment.id.in_(places))
             .order_by(Establishment.name, Establishment.id))
    return [(row.id, row.name) for row in session.execute(query)]


def forces_to_choose(user: User) -> bool:
    """Whether the person's territory holds both forces somewhere (a force filter would then mean something)."""
    if user.role is Role.ADMIN:
        return True
    forces = {scope.force for scope in user.scopes}
    return None in forces or len(forces) > 1


# -- a trainer's own month -----------------------------------------------------------------------------------


def trainer_agenda(session: Session, user: User, trainer: Trainer, period: Period, timezone_name: str
                   ) -> TrainerAgenda:
    """A trainer's offers, sessions and unavailabilities over the weeks that cover the period. Two statements."""
    weeks = period.weeks
    shown = Period(period.kind, weeks[0][0], weeks[-1][-1])
    statement = (_entries(shown, true(), and_(Assignment.trainer_id == trainer.id, ASSIGNMENTS.rows(user)),
                          staffed_only=True)
                 .order_by(Intervention.starts_at, Intervention.id))
    entries: dict[date, list[Entry]] = defaultdict(list)
    counts: Counter = Counter()
    for row in session.execute(statement):
        entry = _entry(row)
        if shown.contains(entry.day):
            entries[entry.day].append(entry)
            if period.contains(entry.day):
                counts[entry.state] += 1
    row = AgendaRow(trainer.id, "")
    _add_absences(session, shown, {trainer.id: row})
    return TrainerAgenda(period, entries, row.absences, counts, timezone_name)


def local_today(now: datetime, timezone_name: str) -> date:
    return to_local(now, timezone_name).date()

