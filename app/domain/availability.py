"""Is this trainer free from T1 to T2, travel included? The single answer the matching relies on.

Two layers, so that the matching can ask for hundreds of candidates cheaply:

- `load_availability(session, trainer_ids, start, end)` fetches, in three queries whatever the number
  of trainers, everything the answer depends on (weekly patterns, exceptions, sessions already
  assigned) as plain immutable data;
- `is_free(availability, start, end, ...)` is a pure function on that data. It works in the time zone
  of the place where the session happens, so weekly patterns (local wall-clock times) stay right
  across daylight-saving changes and overseas.

A trainer who never entered a weekly pattern is available on weekdays during school hours
(`DEFAULT_SLOTS`), so that nobody is invisible for want of filling a form.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session

from app.domain.holidays import is_public_holiday
from app.domain.timezones import to_local, to_utc
from app.formatting import clock_text, day_text, moment_text

__all__ = [
    "DEFAULT_SLOTS",
    "SCHOOL_DAY_END",
    "SCHOOL_DAY_START",
    "Answer",
    "BusyPeriod",
    "Period",
    "TrainerAvailability",
    "WeeklySlot",
    "availability_bounds",
    "busy_statuses",
    "is_free",
    "load_availability",
    "load_trainer_sessions",
    "travel_minutes_for",
]

SCHOOL_DAY_START = time(8, 0)
SCHOOL_DAY_END = time(17, 30)
# Average door-to-door speed used to turn kilometres into travel minutes, and the least buffer kept
# around a session whose distance is unknown (parking, setting up, the walk to the classroom).
AVERAGE_SPEED_KMH = 60
MINIMUM_BUFFER_MINUTES = 30


@dataclass(frozen=True)
class WeeklySlot:
    """A recurring local wall-clock slot on a weekday (Monday = 0), optionally bounded in dates."""

    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        return (day.weekday() == self.weekday
                and (self.valid_from is None or day >= self.valid_from)
                and (self.valid_until is None or day <= self.valid_until))


DEFAULT_SLOTS: tuple[WeeklySlot, ...] = tuple(WeeklySlot(weekday, SCHOOL_DAY_START, SCHOOL_DAY_END)
                                              for weekday in range(5))


@dataclass(frozen=True)
class Period:
    """An exception: an aware UTC interval, with the reason the trainer gave."""

    starts_at: datetime
    ends_at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class BusyPeriod:
    """A session the trainer already has (accepted) or has been offered (pending answer)."""

    starts_at: datetime
    ends_at: datetime
    intervention_id: int
    accepted: bool
    # Where it happens (the establishment), so that back-to-back sessions at one place need no travel.
    place_key: int | None = None
    travel_minutes: int = MINIMUM_BUFFER_MINUTES

    def collides(self, start: datetime, end: datetime, travel_minutes: int, place_key: int | None) -> bool:
        """Whether a session at `place_key` from `start` to `end`, `travel_minutes` away from the trainer, leaves
        no time to get from one to the other (none needed between two classes of one school)."""
        if place_key is not None and self.place_key == place_key:
            return self.starts_at < end and start < self.ends_at
        travel = timedelta(minutes=max(travel_minutes, 0))
        return (self.starts_at - timedelta(minutes=self.travel_minutes) < end + travel
                and start - travel < self.ends_at + timedelta(minutes=self.travel_minutes))


@dataclass(frozen=True)
class TrainerAvailability:
    """Everything `is_free` needs about one trainer, as plain data."""

    trainer_id: int
    slots: tuple[WeeklySlot, ...] = ()
    unavailable: tuple[Period, ...] = ()
    extra: tuple[Period, ...] = ()
    busy: tuple[BusyPeriod, ...] = ()
    # The available intervals of each local day, and of each span of days around a session, computed once:
    # ranking and planning ask `is_free` about the same few days for every start time.
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _spans: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @property
    def uses_default_pattern(self) -> bool:
        return not self.slots

    @property
    def weekly_slots(self) -> tuple[WeeklySlot, ...]:
        return self.slots or DEFAULT_SLOTS


@dataclass(frozen=True)
class Answer:
    """Free or not, and why not (French, for coordinators and trainers)."""

    free: bool
    reasons: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return self.free

    @property
    def reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None


def travel_minutes_for(distance_km: float | None) -> int:
    """One-way travel time for a road distance, never below the minimum buffer."""
    if distance_km is None:
        return MINIMUM_BUFFER_MINUTES
    return max(MINIMUM_BUFFER_MINUTES, round(distance_km / AVERAGE_SPEED_KMH * 60))


def is_free(availability: TrainerAvailability, start: datetime, end: datetime, *, timezone_name: str,
            departement_code: str, travel_minutes: int = 0, place_key: int | None = None,
            ignore_intervention_ids: Iterable[int] = (), explain: bool = True) -> Answer:
    """Whether the trainer can give a session at a place from `start` to `end` (aware UTC).

    The trainer must be available from `start - travel` to `end + travel`: inside the weekly pattern
    (which does not apply on the place's public holidays) or an extra availability, outside any
    unavailable period, and clear of their other sessions with the travel buffers around them.
    With `explain=False` (planning a month asks this hundreds of thousands of times) the answer
    comes without its French reasons.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("is_free takes aware UTC datetimes")
    if end <= start:
        raise ValueError("a session ends after it starts")
    travel = timedelta(minutes=max(travel_minutes, 0))
    leave, back = start - travel, end + travel
    reasons: list[str] = []
    ignored = set(ignore_intervention_ids)

    for period in availability.unavailable:
        if period.starts_at < back and leave < period.ends_at:
            if not explain:
                return Answer(False, ())
            reasons.append(_reason_unavailable(period, timezone_name))

    for busy in availability.busy:
        if busy.intervention_id in ignored:
            continue
        if busy.collides(start, end, travel_minutes, place_key):
            if not explain:
                return Answer(False, ())
            reasons.append(_reason_busy(busy, timezone_name))

    covering, holidays = _available_intervals(availability, leave, back, timezone_name, departement_code)
    if not _covers(covering, leave, back):
        if not explain:
            return Answer(False, ())
        if holidays:
            reasons.extend(_("Jour férié : %(name)s (%(day)s) ; les disponibilités habituelles ne "
                             "s'appliquent pas.", name=name, day=_day(day))
                           for day, name in holidays)
        else:
            reasons.append(_reason_outside_pattern(availability, leave, back, timezone_name, travel_minutes))
    return Answer(not reasons, tuple(reasons))


def _available_intervals(availability: TrainerAvailability, leave: datetime, back: datetime, timezone_name: str,
                         departement_code: str) -> tuple[list[tuple[datetime, datetime]], list[tuple[date, str]]]:
    """UTC intervals when the trainer is available around the window (sorted), and the holidays that removed
    some: the same for every start between the same local days, so kept per span of days."""
    leave_day = to_local(leave, timezone_name).date()
    last = to_local(back, timezone_name).date()
    key = (leave_day, last, timezone_name, departement_code)
    if key not in availability._spans:
        intervals: list[tuple[datetime, datetime]] = []
        holidays: list[tuple[date, str]] = []
        day = leave_day - timedelta(days=1)  # a slot of the day before may run past midnight
        while day <= last:
            day_intervals, holiday = _day_intervals(availability, day, timezone_name, departement_code)
            if holiday and leave_day <= day:
                holidays.append((day, holiday))
            intervals.extend(day_intervals)
            day += timedelta(days=1)
        intervals.extend((period.starts_at, period.ends_at) for period in availability.extra)
        availability._spans[key] = (sorted(intervals), holidays)
    return availability._spans[key]


def _day_intervals(availability: TrainerAvailability, day: date, timezone_name: str, departement_code: str
                   ) -> tuple[tuple[tuple[datetime, datetime], ...], str | None]:
    """The weekly pattern's UTC intervals on one local day, or the public holiday that cancels them."""
    key = (day, timezone_name, departement_code)
    if key not in availability._days:
        slots = [slot for slot in availability.weekly_slots if slot.applies_on(day)]
        holiday = is_public_holiday(departement_code, day) if slots else None
        availability._days[key] = ((), holiday) if holiday else (tuple(
            (to_utc(day, slot.start, timezone_name),
             to_utc(day if slot.end > slot.start else day + timedelta(days=1), slot.end, timezone_name))
            for slot in slots), None)
    return availability._days[key]


def _covers(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    """Whether the union of the intervals (sorted) contains [start, end] (touching intervals join up)."""
    reached = start
    for interval_start, interval_end in intervals:
        if interval_start > reached:
            break
        reached = max(reached, interval_end)
        if reached >= end:
            return True
    return reached >= end


# The reasons are read by coordinators next to the session: dates and times written as everywhere else
# (app.formatting), in the place's own time, its zone not repeated at each time.
def _day(day: date) -> str:
    return day_text(day)


def _clock(moment: datetime, timezone_name: str) -> str:
    return clock_text(to_local(moment, timezone_name))


def _moment(moment: datetime, timezone_name: str) -> str:
    return moment_text(moment, timezone_name, "long", default_zone=timezone_name)


def _reason_unavailable(period: Period, timezone_name: str) -> str:
    if period.reason:
        return _("Indisponible du %(start)s au %(end)s (%(reason)s).", start=_moment(period.starts_at, timezone_name),
                 end=_moment(period.ends_at, timezone_name), reason=period.reason)
    return _("Indisponible du %(start)s au %(end)s.", start=_moment(period.starts_at, timezone_name),
             end=_moment(period.ends_at, timezone_name))


def _reason_busy(busy: BusyPeriod, timezone_name: str) -> str:
    values = dict(day=_day(to_local(busy.starts_at, timezone_name).date()), start=_clock(busy.starts_at, timezone_name),
                  end=_clock(busy.ends_at, timezone_name), minutes=busy.travel_minutes)
    if busy.accepted:
        return _("Déjà affecté(e) à une intervention le %(day)s de %(start)s à %(end)s "
                 "(plus %(minutes)s min de trajet).", **values)
    return _("Une proposition est en attente pour une intervention le %(day)s de %(start)s à %(end)s "
             "(plus %(minutes)s min de trajet).", **values)


def _reason_outside_pattern(availability: TrainerAvailability, leave: datetime, back: datetime, timezone_name: str,
                            travel_minutes: int) -> str:
    values = dict(day=_day(to_local(leave, timezone_name).date()), start=_clock(leave, timezone_name),
                  end=_clock(back, timezone_name))
    if availability.uses_default_pattern:
        message = _("En dehors des disponibilités par défaut (jours de semaine, de %(from)s à %(to)s) : le %(day)s "
                    "de %(start)s à %(end)s", **values, **{"from": clock_text(SCHOOL_DAY_START),
                                                         "to": clock_text(SCHOOL_DAY_END)})
    else:
        message = _("En dehors des disponibilités du formateur : le %(day)s de %(start)s à %(end)s", **values)
    if travel_minutes:
        return message + _(", trajet de %(minutes)s min compris.", minutes=travel_minutes)
    return message + "."


# -- loading -----------------------------------------------------------------------------------------


def busy_statuses() -> tuple:
    from app.models import AssignmentStatus

    return (AssignmentStatus.ACCEPTED, AssignmentStatus.OFFERED)


@cache
def _loading_statements() -> tuple[Select, Select, Select]:
    """The statements of `load_trainer_sessions` and `load_availability`, built once with bound parameters:
    the candidates page loads a pool's availability on every view, and building the statements and their
    cache keys again each time cost about as much as running them."""
    from app.models import Assignment, AvailabilityException, AvailabilityPattern, Intervention, InterventionRequest

    trainer_ids = bindparam("trainer_ids", expanding=True)
    sessions = (
        select(Assignment.trainer_id, Assignment.status, Assignment.distance_km,
               Intervention.id.label("intervention_id"), Intervention.starts_at, Intervention.ends_at,
               InterventionRequest.establishment_id, Intervention.status.label("intervention_status"))
        .join(Intervention, Intervention.id == Assignment.intervention_id)
        .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .where(Assignment.trainer_id.in_(trainer_ids), Assignment.status.in_(busy_statuses()),
               Intervention.starts_at.is_not(None), Intervention.starts_at < bindparam("high"),
               Intervention.ends_at > bindparam("low"))
        .order_by(Intervention.starts_at))
    patterns = (
        select(AvailabilityPattern.trainer_id, AvailabilityPattern.weekday, AvailabilityPattern.start_time,
               AvailabilityPattern.end_time, AvailabilityPattern.valid_from, AvailabilityPattern.valid_until)
        .where(AvailabilityPattern.trainer_id.in_(trainer_ids))
        .order_by(AvailabilityPattern.weekday, AvailabilityPattern.start_time))
    exceptions = (
        select(AvailabilityException.trainer_id, AvailabilityException.kind, AvailabilityException.starts_at,
               AvailabilityException.ends_at, AvailabilityException.reason)
        .where(AvailabilityException.trainer_id.in_(trainer_ids), AvailabilityException.starts_at < bindparam("high"),
               AvailabilityException.ends_at > bindparam("low"))
        .order_by(AvailabilityException.starts_at))
    return sessions, patterns, exceptions


def load_trainer_sessions(session: Session, trainer_ids: Sequence[int], low: datetime, high: datetime) -> list[Row]:
    """The sessions the trainers hold or are offered (accepted or pending) that overlap [low, high], cancelled
    ones included (rows: trainer_id, status, distance_km, intervention_id, starts_at, ends_at,
    establishment_id, intervention_status), in start order. Availability and workload limits both read them:
    ranking one session loads them once for both."""
    if not trainer_ids:
        return []
    sessions, _patterns, _exceptions = _loading_statements()
    return session.execute(sessions, {"trainer_ids": sorted(set(trainer_ids)), "low": low, "high": high}).all()


def availability_bounds(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """What `load_availability` reads around [start, end]: a day of margin on each side, enough for any
    travel buffer."""
    margin = timedelta(days=1)
    return start - margin, end + margin


def load_availability(session: Session, trainer_ids: Sequence[int], start: datetime, end: datetime,
                      sessions: Sequence[Row] | None = None) -> dict[int, TrainerAvailability]:
    """Availability of many trainers around [start, end] (aware UTC), in three queries (two when their
    `sessions` from `load_trainer_sessions` are given, covering at least `availability_bounds`)."""
    from app.models import AssignmentStatus, ExceptionKind, InterventionStatus

    ids = sorted(set(trainer_ids))
    if not ids:
        return {}
    low, high = availability_bounds(start, end)
    slots: dict[int, list[WeeklySlot]] = defaultdict(list)
    unavailable: dict[int, list[Period]] = defaultdict(list)
    extra: dict[int, list[Period]] = defaultdict(list)
    busy: dict[int, list[BusyPeriod]] = defaultdict(list)

    # Plain rows, not ORM objects: the candidates page loads these on every view.
    _sessions, patterns, exceptions = _loading_statements()
    for trainer_id, weekday, start_time, end_time, valid_from, valid_until in session.execute(
            patterns, {"trainer_ids": ids}):
        slots[trainer_id].append(WeeklySlot(weekday, start_time, end_time, valid_from, valid_until))
    for trainer_id, kind, starts_at, ends_at, reason in session.execute(
            exceptions, {"trainer_ids": ids, "low": low, "high": high}):
        target = extra if kind is ExceptionKind.EXTRA else unavailable
        target[trainer_id].append(Period(starts_at, ends_at, reason))
    if sessions is None:
        sessions = load_trainer_sessions(session, ids, low, high)
    for row in sessions:
        if row.intervention_status is not InterventionStatus.CANCELLED and row.starts_at < high and row.ends_at > low:
            busy[row.trainer_id].append(BusyPeriod(row.starts_at, row.ends_at, row.intervention_id,
                                                   row.status is AssignmentStatus.ACCEPTED, row.establishment_id,
                                                   travel_minutes_for(row.distance_km)))
    return {trainer_id: TrainerAvailability(trainer_id, tuple(slots[trainer_id]), tuple(unavailable[trainer_id]),
                                            tuple(extra[trainer_id]), tuple(busy[trainer_id]))
            for trainer_id in ids}
