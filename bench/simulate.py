"""`python -m bench.simulate` (or `make simulate`): a school year played on a copy of the national data set (#20).

A virtual clock (`app.domain.clock`, frozen at each moment) runs from `Parameters.first_day` to `last_day`; every
change goes through the app's own domain functions in a unit of work (e-mails queued in the outbox as in
production, not delivered) and the real periodic jobs of `flask tick` (`jobs.JOBS`: the offers' expiry and the
autopilot), so what is measured is what Relais does. The same seeded events are played under two policies, each on
its own copy of the data set:

- "coordinator" (today): every scope on « manuel »; every Monday morning the coordination runs the planner over the
  coming weeks and sends the plan (`plan_builder.load_planning_problem`, `solve`, `commit_plan`); a decline or an
  expiry cascades to the next candidate, three times, then the session is handed back;
- "autopilot": every scope on « automatique »; `flask tick` runs several times a day (`Parameters.tick_hours`), each
  run plans every scope over the rolling horizon and sends the offers; the coordination still plans, on Monday, the
  sessions handed back to it.

Events, drawn once from the seed and played identically under both policies (`Scenario`):

- requests arrive along the school year's season (`SEASON`: more in September–November and January–March, none in
  July–August), a Poisson number a working day per scope, in proportion to its trainers; each is submitted by a
  member of its establishment (`requests.save_request`), accepted by the coordination a few hours later
  (`lifecycle.accept`);
- establishments cancel some requests (`lifecycle.cancel_request`) and move others (cancelled, then the same request
  submitted again with later windows);
- trainers answer offers after a random delay (some never do: the offer expires), declining with a probability that
  grows with their month's load and the distance (`offers.accept_offer`, `decline_offer`);
- trainers fall ill (from today) or go on leave (announced weeks ahead) (`roster.add_exception`): their offers in the
  period are declined, their accepted sessions withdrawn by the coordination (`offers.withdraw`) and planned again;
- sessions take place, and their trainers' reports come in the next day (`reports.save_report`).

A session is *feasible* if, when its request was accepted, the planner's own loading
(`plan_builder.load_planning_problem`) gave it at least one option (a pair: two trainers at one start).
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import statistics
import sys
import time as wallclock
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import unit_of_work
from app.domain import lifecycle
from app.domain.autopilot import (
    AT_LIMITS,
    DAILY_CAP,
    NO_ELIGIBLE,
    NO_SECOND,
    NO_START,
    TURNED_DOWN,
    TURNED_DOWN_STATUSES,
    set_mode,
)
from app.domain.clock import clock
from app.domain.demo_year import AUDIENCES_BY_KIND, COMMON_TOPICS, DAY_PART_WEIGHTS, DAY_PARTS, OpenDays, Place
from app.domain.eligibility import asked_answer
from app.domain.offers import OfferSettings, accept_offer, decline_offer, withdraw
from app.domain.plan_builder import commit_plan, load_planning_problem, solve
from app.domain.planning import NO_CAPACITY, NO_OPTION, NO_PAIR
from app.domain.policies import coordinators_covering
from app.domain.reports import ReportData, save_report
from app.domain.request_rules import RequestInput, WindowInput
from app.domain.requests import RequestDetails, save_request
from app.domain.roster import add_exception, trainer_timezone
from app.domain.timezones import to_local, to_utc
from app.extensions import db
from app.jobs import JOBS
from app.models import (
    Assignment,
    AssignmentStatus,
    AutopilotMode,
    Departement,
    Establishment,
    ExceptionKind,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    RequestEvent,
    RequestStatus,
    Role,
    Trainer,
    User,
)
from app.models.trainers import trainer_departement

RESULTS_DIR = Path(__file__).resolve().parent / "results"
POLICIES = ("coordinator", "autopilot")
POLICY_NAMES = {"coordinator": "Today's coordinator (weekly planning, manual mode)",
                "autopilot": "The autopilot (automatic mode)"}
# Relative rate of new requests by calendar month (September = 9): the programme's season.
SEASON = {9: 1.3, 10: 1.5, 11: 1.3, 12: 0.6, 1: 1.3, 2: 1.1, 3: 1.3, 4: 0.6, 5: 0.6, 6: 0.2, 7: 0.0, 8: 0.0}
GROUP_COUNTS, GROUP_WEIGHTS = (1, 2, 3), (55, 35, 10)
PAIR_SHARE = 0.10
PARIS = "Europe/Paris"
FINISHED = (InterventionStatus.CONFIRMED, InterventionStatus.DONE, InterventionStatus.NOT_HELD)


@dataclass(frozen=True)
class Parameters:
    """Everything the simulation depends on: the same parameters and seed give the same report."""

    seed: int = 2027
    first_day: date = date(2027, 9, 1)
    last_day: date = date(2028, 7, 10)
    scale: float = 1.0  # share of the départements simulated (drawn with the seed); 1: all of them
    departements: tuple[str, ...] = ()  # or exactly these
    sessions_per_trainer: float = 25.0  # sessions requested a school year, per trainer of the scope
    window_school_days: tuple[int, ...] = (3, 5, 5, 8, 10)
    lead_days: tuple[int, int] = (0, 35)  # beyond the 15 days' notice, before the first window opens
    accept_median_hours: float = 18.0  # coordination accepts a request (lognormal, at most 4 days)
    cancel_share: float = 0.04  # requests cancelled by their establishment
    reschedule_share: float = 0.03  # requests moved by their establishment (cancelled, submitted again later)
    answer_median_hours: float = 10.0  # trainers answer an offer (lognormal)
    silent_share: float = 0.05  # offers never answered (they expire)
    decline_base: float = 0.08  # a trainer declines with this probability …
    decline_per_load: float = 0.35  # … plus this times their month's accepted sessions over their monthly limit …
    decline_per_100_km: float = 0.25  # … plus this per 100 km of distance (at most `decline_max`)
    decline_max: float = 0.8
    illnesses_per_trainer: float = 0.5  # a school year, from the day they start, 2 to 10 days
    leaves_per_trainer: float = 0.8  # a school year, announced 10 to 40 days ahead, 5 to 12 days
    tick_hours: tuple[int, ...] = (7, 10, 13, 16, 19)  # local (Paris) hours of `flask tick` in the autopilot policy
    coordinator_hour: int = 9  # Monday, local: the coordination's weekly planning
    horizon_weeks: int = 10  # both policies plan the coming weeks
    planning_time_limit: float = 5.0  # the planner's (deterministic) time limit, per scope

    def table(self) -> list[tuple[str, str]]:
        return [(name, str(value)) for name, value in asdict(self).items()]


# -- the events, drawn once --------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """A request as its establishment will submit it, and what becomes of it."""

    key: int  # its number in the scenario (both policies)
    submit_at: datetime
    establishment_id: int
    author_id: int
    scope: tuple[str, Force]
    windows: tuple[tuple[date, date, time, time], ...]
    groups: int
    people: int
    duration: int
    topics: tuple[str, ...]
    audiences: tuple[str, ...]
    pair: bool
    accept_after: timedelta
    cancel_at: datetime | None = None
    moved_to: int | None = None  # the key of the arrival that submits it again, later


@dataclass(frozen=True)
class Absence:
    trainer_id: int
    announced_at: datetime
    first_day: date
    last_day: date
    kind: str  # "illness" or "leave"


@dataclass
class Scenario:
    parameters: Parameters
    scopes: list[tuple[str, Force]]
    trainer_ids: list[int]
    arrivals: list[Arrival]
    absences: list[Absence]


def _poisson(rng: random.Random, rate: float) -> int:
    if rate <= 0:
        return 0
    limit, product, count = math.exp(-rate), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def chosen_departements(session, parameters: Parameters) -> list[str]:
    codes = sorted(session.scalars(select(Departement.code)))
    if parameters.departements:
        return [code for code in codes if code in parameters.departements]
    if parameters.scale >= 1:
        return codes
    rng = random.Random(f"{parameters.seed}:departements")
    return sorted(rng.sample(codes, max(1, round(len(codes) * parameters.scale))))


def draw_scenario(session, parameters: Parameters) -> Scenario:
    """The requests, their fates and the trainers' absences of the year, from the seed (read-only on the data)."""
    rng = random.Random(f"{parameters.seed}:scenario")
    codes = chosen_departements(session, parameters)
    zones = dict(session.execute(select(Departement.code, Departement.timezone)).all())
    places: dict[tuple[str, Force], list[Place]] = defaultdict(list)
    for row in session.execute(
            select(Establishment.id, Establishment.departement_code, Establishment.force, Establishment.kind,
                   Departement.holiday_zone)
            .join(Departement, Departement.code == Establishment.departement_code)
            .where(Establishment.force.is_not(None), Establishment.confirmed_at.is_not(None),
                   Establishment.departement_code.in_(codes)).order_by(Establishment.id)):
        places[(row.departement_code, row.force)].append(Place(*row))
    pools: dict[tuple[str, Force], list[int]] = defaultdict(list)
    for code, force, trainer_id in session.execute(
            select(trainer_departement.c.departement_code, Trainer.force, Trainer.id)
            .join(Trainer, Trainer.id == trainer_departement.c.trainer_id)
            .where(Trainer.active.is_(True), trainer_departement.c.departement_code.in_(codes))
            .order_by(trainer_departement.c.departement_code, Trainer.force, Trainer.id)):
        pools[(code, force)].append(trainer_id)
    members = dict(session.execute(select(User.establishment_id, func.min(User.id))
                                   .where(User.establishment_id.is_not(None), User.role == Role.REQUESTER,
                                          User.active.is_(True))
                                   .group_by(User.establishment_id)).all())
    scopes = sorted(key for key in pools if places.get(key))
    open_days = OpenDays(parameters.first_day, parameters.last_day)
    days = [parameters.first_day + timedelta(days=n)
            for n in range((parameters.last_day - parameters.first_day).days + 1)]
    weights = [SEASON[day.month] if day.weekday() < 5 else 0.0 for day in days]
    total_weight = sum(weights) or 1.0
    notice = current_app.config["RELAIS_MIN_NOTICE_DAYS"]

    arrivals: list[Arrival] = []

    def window_from(place: Place, earliest: date) -> tuple[tuple[date, date, time, time], int] | None:
        usable = [day for day in open_days.of(place) if day >= earliest]
        if not usable:
            return None
        length = rng.choice(parameters.window_school_days)
        last = usable[min(length, len(usable)) - 1]
        begins, ends = DAY_PARTS[rng.choices(range(len(DAY_PARTS)), DAY_PART_WEIGHTS)[0]]
        return (usable[0], last, begins, ends), min(length, len(usable))

    def draw_request(scope, place: Place, submit_at: datetime) -> Arrival | None:
        local = to_local(submit_at, zones[scope[0]]).date()
        earliest = local + timedelta(days=notice + rng.randint(*parameters.lead_days))
        drawn = window_from(place, earliest)
        if drawn is None:
            return None
        window, open_count = drawn
        groups = min(rng.choices(GROUP_COUNTS, GROUP_WEIGHTS)[0], open_count)
        school = place.kind.is_school
        fate = rng.random()
        accept_after = timedelta(hours=min(rng.lognormvariate(math.log(parameters.accept_median_hours), 0.8), 96))
        accepted_at = submit_at + accept_after
        first_start = to_utc(window[0], window[2], zones[scope[0]])
        cancel_at = None
        moved = False
        if fate < parameters.cancel_share + parameters.reschedule_share and first_start - accepted_at > timedelta(
                days=2):
            cancel_at = accepted_at + (first_start - accepted_at - timedelta(days=1)) * rng.uniform(0.1, 0.9)
            moved = fate >= parameters.cancel_share
        return Arrival(
            key=len(arrivals), submit_at=submit_at, establishment_id=place.establishment_id,
            author_id=members[place.establishment_id], scope=scope, windows=(window,), groups=groups,
            people=rng.choice((24, 26, 28, 30)) if school else rng.choice((15, 40, 80)),
            duration=rng.choice((60, 60, 90) if school else (90, 120)),
            topics=tuple(rng.sample(COMMON_TOPICS, rng.choice((1, 2, 2)))),
            audiences=tuple(rng.choice(AUDIENCES_BY_KIND[place.kind])),
            pair=rng.random() < PAIR_SHARE and len(pools[scope]) > 1, accept_after=accept_after,
            cancel_at=cancel_at, moved_to=-1 if moved else None)

    for scope in scopes:
        candidates = [p for p in places[scope] if p.establishment_id in members and open_days.of(p)]
        if not candidates:
            continue
        requests_a_year = parameters.sessions_per_trainer * len(pools[scope]) / (
            sum(g * w for g, w in zip(GROUP_COUNTS, GROUP_WEIGHTS, strict=True)) / sum(GROUP_WEIGHTS))
        for day, weight in zip(days, weights, strict=True):
            for _ in range(_poisson(rng, requests_a_year * weight / total_weight)):
                submit_at = to_utc(day, time(rng.randint(8, 17), rng.randrange(0, 60, 5)), zones[scope[0]])
                arrival = draw_request(scope, rng.choice(candidates), submit_at)
                if arrival is not None:
                    arrivals.append(arrival)
    # Moved requests: submitted again when cancelled, with windows later on.
    for index, arrival in enumerate(list(arrivals)):
        if arrival.moved_to is None:
            continue
        place = next(p for p in places[arrival.scope] if p.establishment_id == arrival.establishment_id)
        again = draw_request(arrival.scope, place, arrival.cancel_at + timedelta(minutes=5))
        if again is None:
            arrivals[index] = replace(arrival, moved_to=None)
            continue
        again = replace(again, key=len(arrivals), cancel_at=None, moved_to=None)
        arrivals.append(again)
        arrivals[index] = replace(arrival, moved_to=again.key)
    arrivals.sort(key=lambda a: (a.submit_at, a.key))

    trainer_ids = sorted({t for scope in scopes for t in pools[scope]})
    absences: list[Absence] = []
    span = (parameters.last_day - parameters.first_day).days
    for trainer_id in trainer_ids:
        for _ in range(_poisson(rng, parameters.illnesses_per_trainer)):
            first = parameters.first_day + timedelta(days=rng.randrange(span))
            absences.append(Absence(trainer_id, to_utc(first, time(7, 0), PARIS), first,
                                    first + timedelta(days=rng.randint(1, 9)), "illness"))
        for _ in range(_poisson(rng, parameters.leaves_per_trainer)):
            first = parameters.first_day + timedelta(days=rng.randrange(span))
            announced = max(first - timedelta(days=rng.randint(10, 40)), parameters.first_day)
            absences.append(Absence(trainer_id, to_utc(announced, time(18, 0), PARIS), first,
                                    first + timedelta(days=rng.randint(4, 11)), "leave"))
    absences.sort(key=lambda a: (a.announced_at, a.trainer_id))
    return Scenario(parameters, scopes, trainer_ids, arrivals, absences)


# -- playing it --------------------------------------------------------------------------------------


@dataclass
class Tracked:
    """What the simulation saw of one request, beyond what the database keeps."""

    request_id: int | None = None
    feasible: dict[int, bool] = field(default_factory=dict)  # session → at acceptance
    # session → (trainers needed, the trainers with an option at acceptance)
    could_give: dict[int, tuple[int, frozenset[int]]] = field(default_factory=dict)
    refused: str | None = None  # why it could not be submitted (a rule), if so


@dataclass
class Run:
    policy: str
    tracked: dict[int, Tracked] = field(default_factory=dict)
    ticks: int = 0
    tick_errors: int = 0  # ticks the autopilot job failed (see Player._tick)
    weekly_plans: int = 0
    answers: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def feasible_sessions(session, request: InterventionRequest, now: datetime
                      ) -> tuple[dict[int, bool], dict[int, tuple[int, frozenset[int]]]]:
    """Whether each session of an accepted request has an option in the planner's own loading now
    (`load_planning_problem` over its windows): an eligible trainer free at one of its starts within their limits,
    two at one start for a pair; and the trainers needed and those with an option. Read only."""
    session.refresh(request)
    first = min(w.start_date for w in request.windows)
    last = max(w.end_date for w in request.windows)
    problem = load_planning_problem(session, date_from=first, date_to=last,
                                    departement_codes=[request.departement_code], force=request.force, now=now)
    ids = {i.id for i in request.interventions}
    feasible = {i: False for i in ids}
    could_give: dict[int, tuple[int, frozenset[int]]] = {}
    for item in problem.sessions:
        if item.intervention_id not in ids:
            continue
        by_start: dict[datetime, set[int]] = defaultdict(set)
        for option in item.options:
            by_start[option.starts_at].add(option.trainer_id)
        feasible[item.intervention_id] = any(len(t) >= item.trainers_needed for t in by_start.values())
        could_give[item.intervention_id] = (item.trainers_needed, frozenset(o.trainer_id for o in item.options))
    session.rollback()
    return feasible, could_give


class Player:
    """Plays a scenario under one policy, in the current app context (its database a copy of the data set)."""

    def __init__(self, scenario: Scenario, policy: str, progress=None) -> None:
        self.scenario = scenario
        self.parameters = scenario.parameters
        self.policy = policy
        self.run = Run(policy)
        self.session = db.session
        self.settings = OfferSettings.from_config(current_app.config)
        self.queue: list[tuple[datetime, int, str, object]] = []
        self.sequence = 0
        self.watermark = 0
        self.progress = progress or (lambda message: None)
        self.zones = dict(self.session.execute(select(Departement.code, Departement.timezone)).all())
        self.admin = self.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1))

    # The event queue: (moment, order of insertion) — the same order under both policies for the drawn events.
    def at(self, moment: datetime, kind: str, payload: object = None) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, (moment, self.sequence, kind, payload))

    def play(self) -> Run:
        started = wallclock.perf_counter()
        p = self.parameters
        self.watermark = self.session.scalar(select(func.max(Assignment.id))) or 0
        self._setup()
        for arrival in self.scenario.arrivals:
            self.at(arrival.submit_at, "submit", arrival)
        for absence in self.scenario.absences:
            self.at(absence.announced_at, "absence", absence)
        day = p.first_day
        while day <= p.last_day:
            if self.policy == "autopilot":
                for hour in p.tick_hours:
                    self.at(to_utc(day, time(hour, 0), PARIS), "tick")
            else:
                # Today's tick: offers expire (and cascade) the same way, the autopilot has nothing to plan.
                self.at(to_utc(day, time(7, 0), PARIS), "tick")
            if day.weekday() == 0:
                self.at(to_utc(day, time(p.coordinator_hour, 0), PARIS), "weekly")
            self.at(to_utc(day, time(20, 0), PARIS), "reports")
            day += timedelta(days=1)
        end = to_utc(p.last_day + timedelta(days=1), time(0), PARIS)
        previous_month = None
        try:
            while self.queue and self.queue[0][0] < end:
                moment, _, kind, payload = heapq.heappop(self.queue)
                clock.freeze(moment)
                if moment.month != previous_month:
                    previous_month = moment.month
                    self.progress(f"{self.policy}: {moment.date().isoformat()} "
                                  f"({wallclock.perf_counter() - started:.0f} s)")
                getattr(self, f"_{kind}")(moment, payload)
                self._schedule_answers()
        finally:
            clock.unfreeze()
        self.run.seconds = wallclock.perf_counter() - started
        return self.run

    def _setup(self) -> None:
        """Every scope in its policy's mode; the requests of the year before still open are closed (cancelled), so
        that the year starts clean."""
        now = to_utc(self.parameters.first_day, time(0), PARIS) - timedelta(minutes=1)
        clock.freeze(now)
        mode = AutopilotMode.AUTOMATIC if self.policy == "autopilot" else AutopilotMode.MANUAL
        codes = sorted({code for code, _ in self.scenario.scopes})
        stale = self.session.scalars(
            select(InterventionRequest.id).where(
                InterventionRequest.departement_code.in_(codes),
                InterventionRequest.status.in_((RequestStatus.SUBMITTED, RequestStatus.IN_PLANNING,
                                                RequestStatus.SCHEDULED))).order_by(InterventionRequest.id)).all()
        for request_id in stale:
            unit_of_work.run(lambda request_id=request_id: lifecycle.cancel_request(
                self.session, self.session.get(InterventionRequest, request_id), self.admin,
                "Année scolaire précédente close.", now))

        simulated = set(self.scenario.scopes)

        def modes():
            # The scopes not simulated stay out of the way (manual): the tick has nothing to plan there.
            for code in sorted(self.zones):
                for force in Force:
                    set_mode(self.session, code, force, mode if (code, force) in simulated else AutopilotMode.MANUAL,
                             self.admin, now)

        unit_of_work.run(modes)
        clock.unfreeze()

    def _coordinator(self, scope) -> User:
        found = coordinators_covering(self.session, scope[0], scope[1])
        return found[0] if found else self.admin

    def _count(self, outcome) -> None:
        if outcome.refusal is not None:
            self.run.refusals[outcome.refusal.code] += 1

    # -- the requests --

    def _submit(self, now: datetime, arrival: Arrival) -> None:
        session = self.session
        establishment = session.get(Establishment, arrival.establishment_id)
        author = session.get(User, arrival.author_id)
        data = RequestInput(audience_codes=list(arrival.audiences), topic_codes=list(arrival.topics),
                            group_count=arrival.groups, people_per_group=arrival.people,
                            duration_minutes=arrival.duration,
                            windows=[WindowInput(*window) for window in arrival.windows])
        details = RequestDetails(room="Salle polyvalente", contact_name="Contact de la simulation",
                                 contact_phone="01 23 45 67 89", wants_two_trainers=arrival.pair)
        outcome = unit_of_work.run(lambda: save_request(
            session, establishment, author, data, details, None, send=True, now=now,
            min_notice_days=current_app.config["RELAIS_MIN_NOTICE_DAYS"]))
        tracked = self.run.tracked.setdefault(arrival.key, Tracked())
        if not outcome.ok or not outcome.value.sent:
            tracked.refused = outcome.refusal.code if outcome.refusal else "not_sent"
            self._count(outcome)
            return
        tracked.request_id = outcome.value.request.id
        self.at(now + arrival.accept_after, "accept", arrival)
        if arrival.cancel_at is not None:
            self.at(max(arrival.cancel_at, now + arrival.accept_after + timedelta(minutes=1)), "cancel", arrival)

    def _accept(self, now: datetime, arrival: Arrival) -> None:
        tracked = self.run.tracked[arrival.key]
        request = self.session.get(InterventionRequest, tracked.request_id)
        if request.status is not RequestStatus.SUBMITTED:
            return
        coordinator = self._coordinator(arrival.scope)
        outcome = unit_of_work.run(lambda: lifecycle.accept(self.session, request, coordinator, now))
        self._count(outcome)
        if outcome.ok:
            tracked.feasible, tracked.could_give = feasible_sessions(self.session, request, now)

    def _cancel(self, now: datetime, arrival: Arrival) -> None:
        tracked = self.run.tracked[arrival.key]
        request = self.session.get(InterventionRequest, tracked.request_id)
        author = self.session.get(User, arrival.author_id)
        reason = ("Date déplacée : la demande est renouvelée plus tard." if arrival.moved_to is not None
                  else "Sortie scolaire programmée sur la même période.")
        self._count(unit_of_work.run(lambda: lifecycle.cancel_request(self.session, request, author, reason, now)))

    # -- the trainers --

    def _schedule_answers(self) -> None:
        """Each new offer gets its answer's moment (or none: it will expire)."""
        rows = self.session.execute(
            select(Assignment.id, Assignment.intervention_id, Assignment.trainer_id, Assignment.offered_at,
                   Assignment.status)
            .where(Assignment.id > self.watermark).order_by(Assignment.id)).all()
        self.session.rollback()
        for row in rows:
            self.watermark = max(self.watermark, row.id)
            if row.status is not AssignmentStatus.OFFERED:
                continue
            rng = self._rng("answer", row.intervention_id, row.trainer_id)
            if rng.random() < self.parameters.silent_share:
                continue
            delay = timedelta(hours=rng.lognormvariate(math.log(self.parameters.answer_median_hours), 1.0))
            self.at(row.offered_at + delay, "answer", (row.id, rng.random()))

    def _rng(self, *key) -> random.Random:
        """A draw tied to what it is about, not to the order of events: the same under both policies."""
        return random.Random(":".join(str(part) for part in (self.parameters.seed, *key)))

    def _answer(self, now: datetime, payload) -> None:
        assignment_id, draw = payload
        session = self.session
        assignment = session.get(Assignment, assignment_id)
        session.refresh(assignment)
        if assignment.status is not AssignmentStatus.OFFERED or assignment.expires_at <= now:
            return
        trainer = assignment.trainer
        intervention = assignment.intervention
        zone = self.zones[intervention.departement_code]
        local = to_local(intervention.starts_at, zone)
        month_start = to_utc(local.date().replace(day=1), time(0), zone)
        month_end = to_utc((local.date().replace(day=28) + timedelta(days=4)).replace(day=1), time(0), zone)
        load = session.scalar(
            select(func.count(Assignment.id)).join(Intervention, Intervention.id == Assignment.intervention_id)
            .where(Assignment.trainer_id == trainer.id, Assignment.status == AssignmentStatus.ACCEPTED,
                   Intervention.starts_at >= month_start, Intervention.starts_at < month_end)) or 0
        p = self.parameters
        chance = min(p.decline_base + p.decline_per_load * load / max(trainer.max_sessions_per_month, 1)
                     + p.decline_per_100_km * (assignment.distance_km or 0) / 100, p.decline_max)
        if draw >= chance:
            outcome = unit_of_work.run(lambda: accept_offer(session, assignment, now))
            if outcome.ok:
                self.run.answers["accepted"] += 1
                return
            self._count(outcome)
            if outcome.refusal.code == "offer_closed":
                return
        outcome = unit_of_work.run(lambda: decline_offer(session, session.get(Assignment, assignment_id),
                                                         "Pas disponible à cette date.", now, self.settings))
        self._count(outcome)
        if outcome.ok:
            self.run.answers["declined"] += 1

    def _absence(self, now: datetime, absence: Absence) -> None:
        session = self.session
        trainer = session.get(Trainer, absence.trainer_id)
        zone = trainer_timezone(session, trainer)
        reason = "Arrêt maladie" if absence.kind == "illness" else "Congés"
        self._count(unit_of_work.run(lambda: add_exception(
            trainer, ExceptionKind.UNAVAILABLE, absence.first_day, None, absence.last_day, None, reason, zone, now)))
        low = to_utc(absence.first_day, time(0), zone)
        high = to_utc(absence.last_day + timedelta(days=1), time(0), zone)
        held = session.execute(
            select(Assignment.id, Assignment.status, Intervention.departement_code, Intervention.force)
            .join(Intervention, Intervention.id == Assignment.intervention_id)
            .where(Assignment.trainer_id == trainer.id,
                   Assignment.status.in_((AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED)),
                   Intervention.starts_at < high, Intervention.ends_at > low, Intervention.starts_at > now)
            .order_by(Assignment.id)).all()
        for assignment_id, status, code, force in held:
            assignment = session.get(Assignment, assignment_id)
            if status is AssignmentStatus.OFFERED:
                outcome = unit_of_work.run(lambda assignment=assignment: decline_offer(
                    session, assignment, f"{reason}.", now, self.settings))
            else:
                coordinator = self._coordinator((code, force))
                outcome = unit_of_work.run(lambda assignment=assignment, coordinator=coordinator: withdraw(
                    session, assignment, coordinator, f"Formateur indisponible ({reason.lower()}).", now))
            self._count(outcome)

    # -- the coordination and the jobs --

    def _tick(self, now: datetime, _payload) -> None:
        """`flask tick`'s offers jobs, as `run_periodic_jobs` runs them (the e-mail-only jobs are left out). The
        autopilot job plans every scope it can and raises the first failure after: counted, as `flask tick`
        would log it and end with status 1."""
        unit_of_work.run(lambda: JOBS["propositions-expirees"](self.session, now))
        try:
            unit_of_work.run(lambda: JOBS["autopilote"](self.session, now))
        except Exception:  # noqa: BLE001 (the job's own failure, reported in the figures)
            self.run.tick_errors += 1
        self.run.ticks += 1

    def _weekly(self, now: datetime, _payload) -> None:
        """The coordination plans the coming weeks and sends the plan (today); with the autopilot, only the
        sessions handed back to it."""
        handed_back_only = self.policy == "autopilot"
        for scope in self.scenario.scopes:
            code, force = scope
            today = to_local(now, self.zones[code]).date()
            coordinator = self._coordinator(scope)

            def plan(code=code, force=force, today=today, coordinator=coordinator):
                problem = load_planning_problem(
                    self.session, date_from=today,
                    date_to=today + timedelta(weeks=self.parameters.horizon_weeks) - timedelta(days=1),
                    departement_codes=[code], force=force, now=now)
                if handed_back_only:
                    problem.sessions = [s for s in problem.sessions
                                        if problem.interventions[s.intervention_id].attention_reason is not None]
                if not problem.sessions:
                    return None
                return commit_plan(self.session, problem, solve(problem, self.parameters.planning_time_limit),
                                   coordinator, now, self.settings)

            self._count(unit_of_work.run(plan))
        self.run.weekly_plans += 1

    def _reports(self, now: datetime, _payload) -> None:
        """Sessions given at least a day ago: each trainer reports them held."""
        ids = [t.request_id for t in self.run.tracked.values() if t.request_id]
        if not ids:
            return
        due = self.session.scalars(
            select(Intervention).where(Intervention.request_id.in_(ids),
                                       Intervention.status == InterventionStatus.CONFIRMED,
                                       Intervention.ends_at <= now - timedelta(days=1))
            .options(selectinload(Intervention.assignments), selectinload(Intervention.request))
            .order_by(Intervention.id)).all()
        for intervention in due:
            for assignment in intervention.assignments:
                if assignment.status is not AssignmentStatus.ACCEPTED:
                    continue
                trainer = assignment.trainer
                data = ReportData(held=True, people_present=intervention.request.people_per_group,
                                  topic_codes=())
                self._count(unit_of_work.run(lambda intervention=intervention, trainer=trainer, data=data: save_report(
                    self.session, intervention, trainer, data, trainer.user, now)))


# -- the figures ------------------------------------------------------------------------------------


def gini(values: list[float]) -> float:
    """Gini coefficient of non-negative values (0: all equal; close to 1: one has everything)."""
    ordered = sorted(values)
    total = sum(ordered)
    if not ordered or total == 0:
        return 0.0
    n = len(ordered)
    return sum((2 * rank - n - 1) * value for rank, value in enumerate(ordered, start=1)) / (n * total)


def percentile(values: list[float], share: float) -> float | None:
    """The `share` quantile by linear interpolation between closest ranks (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# The autopilot's reasons (app.domain.autopilot, app.domain.planning), shortened for the report.
REASON_KEYS = {NO_START: "windows past or too short", NO_ELIGIBLE: "no eligible trainer",
               TURNED_DOWN: "turned down by the trainers who could come, no other free",
               NO_SECOND: "a pair short of its second trainer at the accepted time",
               AT_LIMITS: "trainers unavailable or at their limits", DAILY_CAP: "daily cap of offers",
               NO_OPTION: "no eligible trainer", NO_CAPACITY: "trainers taken or at their limits",
               NO_PAIR: "no two trainers at one start"}


@dataclass
class SessionFacts:
    intervention_id: int
    accepted_at: datetime
    submitted_at: datetime
    feasible: bool
    cancelled_by_establishment: bool
    confirmed_at: datetime | None
    final_status: str
    offers: int
    handed_back: bool
    trainers: list[tuple[int, float]]  # accepted (trainer, km) when given
    autopilot_reason: str | None = None  # why the autopilot could not serve it (short), if it said
    # Every trainer who could give it when it was accepted declined it, let the offer expire or was withdrawn
    # (ill, on leave) from it: fewer of them left than it needs. No policy may ask them again.
    refused_by_all: bool = False


def session_facts(run: Run, scenario: Scenario) -> list[SessionFacts]:
    session = db.session
    by_request = {t.request_id: (key, t) for key, t in run.tracked.items() if t.request_id}
    cancelled_keys = {a.key for a in scenario.arrivals if a.cancel_at is not None}
    if not by_request:
        return []
    interventions = session.scalars(
        select(Intervention).where(Intervention.request_id.in_(list(by_request)))
        .options(selectinload(Intervention.assignments), selectinload(Intervention.request))
        .order_by(Intervention.id)).all()
    flagged = set(session.scalars(select(RequestEvent.intervention_id).where(
        RequestEvent.kind == "needs_attention", RequestEvent.request_id.in_(list(by_request)))))
    # Why the autopilot could not serve each session: its last reason before the windows passed (then every
    # session says so), from the history's lines.
    notes: dict[int, str] = {}
    for intervention_id, note in session.execute(
            select(RequestEvent.intervention_id, RequestEvent.note)
            .where(RequestEvent.kind == "autopilot_unserved", RequestEvent.request_id.in_(list(by_request)))
            .order_by(RequestEvent.id)):
        reason = next((key for text, key in REASON_KEYS.items() if (note or "").endswith(text)), "other")
        if reason != REASON_KEYS[NO_START] or intervention_id not in notes:
            notes[intervention_id] = reason
    facts = []
    for intervention in interventions:
        key, tracked = by_request[intervention.request_id]
        request = intervention.request
        given = intervention.status in FINISHED
        needed, could_give = tracked.could_give.get(intervention.id, (1, frozenset()))
        refused = {a.trainer_id for a in intervention.assignments
                   if asked_answer(a.status.value, a.decline_reason) in TURNED_DOWN_STATUSES}
        facts.append(SessionFacts(
            intervention.id, request.accepted_at, request.submitted_at, tracked.feasible.get(intervention.id, False),
            key in cancelled_keys, intervention.confirmed_at if given else None, intervention.status.value,
            len(intervention.assignments), intervention.id in flagged,
            [(a.trainer_id, a.distance_km or 0.0) for a in intervention.assignments
             if a.status is AssignmentStatus.ACCEPTED] if given else [],
            notes.get(intervention.id), bool(could_give) and len(could_give - refused) < needed))
    return facts


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def figures(facts: list[SessionFacts], trainer_ids: list[int]) -> dict[str, float | int | None]:
    """The report's figures for one policy, on the sessions not cancelled by their establishment."""
    kept = [f for f in facts if not f.cancelled_by_establishment]
    feasible = [f for f in kept if f.feasible]
    refused = [f for f in feasible if f.refused_by_all and f.confirmed_at is None]
    askable = [f for f in feasible if not (f.refused_by_all and f.confirmed_at is None)]
    confirmed = [f for f in kept if f.confirmed_at is not None]
    delays = [(_aware(f.confirmed_at) - _aware(f.submitted_at)).total_seconds() / 86400 for f in confirmed]
    given: Counter = Counter({t: 0 for t in trainer_ids})
    km = 0.0
    for f in confirmed:
        for trainer_id, distance in f.trainers:
            given[trainer_id] += 1
            km += distance
    busy = [n for n in given.values() if n > 0]
    median_busy = statistics.median(busy) if busy else 0
    return {
        "sessions": len(kept),
        "feasible": len(feasible),
        "confirmed": len(confirmed),
        "feasible_confirmed_share": (sum(1 for f in feasible if f.confirmed_at is not None) / len(feasible)
                                     if feasible else None),
        "feasible_refused_by_all": len(refused),
        "askable_confirmed_share": (sum(1 for f in askable if f.confirmed_at is not None) / len(askable)
                                    if askable else None),
        "confirmed_share": len(confirmed) / len(kept) if kept else None,
        "median_days_to_confirmation": percentile(delays, 0.5),
        "p90_days_to_confirmation": percentile(delays, 0.9),
        "offers_per_confirmed": sum(f.offers for f in kept) / len(confirmed) if confirmed else None,
        "handed_back": sum(1 for f in kept if f.handed_back),
        "handed_back_share": sum(1 for f in kept if f.handed_back) / len(kept) if kept else None,
        "trainers_with_sessions": len(busy),
        "workload_max_over_median": max(busy) / median_busy if busy else None,
        "workload_gini": gini(list(given.values())),
        "km_per_session": km / len(confirmed) if confirmed else None,
        "feasible_unconfirmed_states": dict(sorted(Counter(f.final_status for f in feasible
                                                           if f.confirmed_at is None).items())),
        "feasible_unconfirmed_reasons": dict(sorted(Counter(f.autopilot_reason or "none" for f in feasible
                                                            if f.confirmed_at is None).items())),
    }


def over_limits(trainer_ids: list[int], first_day: date, last_day: date) -> int:
    """(trainer, week or month) of the simulated days where the trainer holds more accepted sessions than their
    limit allows."""
    session = db.session
    limits = {t.id: (t.max_sessions_per_week, t.max_sessions_per_month)
              for t in session.scalars(select(Trainer).where(Trainer.id.in_(trainer_ids)))}
    weeks: Counter = Counter()
    months: Counter = Counter()
    for trainer_id, starts_at in session.execute(
            select(Assignment.trainer_id, Intervention.starts_at)
            .join(Intervention, Intervention.id == Assignment.intervention_id)
            .where(Assignment.trainer_id.in_(trainer_ids), Assignment.status == AssignmentStatus.ACCEPTED,
                   Intervention.status.in_(FINISHED), Intervention.starts_at >= to_utc(first_day, time(0), PARIS),
                   Intervention.starts_at < to_utc(last_day + timedelta(days=1), time(0), PARIS))):
        local = to_local(_aware(starts_at), PARIS)
        weeks[(trainer_id, local.isocalendar()[:2])] += 1
        months[(trainer_id, (local.year, local.month))] += 1
    return (sum(1 for (t, _), n in weeks.items() if n > limits[t][0])
            + sum(1 for (t, _), n in months.items() if n > limits[t][1]))


def monthly_series(facts: list[SessionFacts], trainer_ids: list[int], months: list[tuple[int, int]]
                   ) -> dict[str, list[float | None]]:
    """Each figure for the sessions accepted in each month (workload: what was given up to the month's end)."""
    series: dict[str, list[float | None]] = defaultdict(list)
    for year, month in months:
        cohort = [f for f in facts if (_aware(f.accepted_at).year, _aware(f.accepted_at).month) == (year, month)]
        month_figures = figures(cohort, [])
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        upto = [replace(f, trainers=f.trainers if f.confirmed_at and _aware(f.confirmed_at) < end else [])
                for f in facts if not f.cancelled_by_establishment]
        spread = figures([f for f in upto if f.trainers], trainer_ids)
        for name in ("feasible_confirmed_share", "median_days_to_confirmation", "p90_days_to_confirmation",
                     "offers_per_confirmed", "handed_back_share", "km_per_session"):
            series[name].append(month_figures[name])
        series["workload_gini"].append(spread["workload_gini"])
        series["workload_max_over_median"].append(spread["workload_max_over_median"])
    return series


# -- the report -------------------------------------------------------------------------------------


FIGURE_ROWS = (
    ("feasible_confirmed_share", "Feasible sessions confirmed", "percent", "≥ 98 %"),
    ("askable_confirmed_share", "… leaving out those every trainer who could give them turned down", "percent", ""),
    ("confirmed_share", "All sessions confirmed", "percent", ""),
    ("median_days_to_confirmation", "Submission → confirmation, median (days)", "days", "≤ 2"),
    ("p90_days_to_confirmation", "Submission → confirmation, 90th percentile (days)", "days", ""),
    ("offers_per_confirmed", "Offers sent per confirmed session", "ratio", ""),
    ("handed_back_share", "Sessions handed back to the coordination", "percent", "≤ 5 %"),
    ("workload_max_over_median", "Workload spread: max / median (trainers with sessions)", "ratio", ""),
    ("workload_gini", "Workload spread: Gini (every trainer of the scopes)", "ratio", ""),
    ("km_per_session", "Kilometres per session (one way, each trainer)", "ratio", ""),
)
CHARTS = (("feasible_confirmed_share", "Feasible sessions confirmed (by month of acceptance)"),
          ("median_days_to_confirmation", "Median days, submission to confirmation"),
          ("p90_days_to_confirmation", "90th percentile days, submission to confirmation"),
          ("offers_per_confirmed", "Offers per confirmed session"),
          ("handed_back_share", "Share handed back to the coordination"),
          ("workload_gini", "Workload Gini (given so far)"),
          ("workload_max_over_median", "Workload max / median (given so far)"),
          ("km_per_session", "Kilometres per session"))


def _shown(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "percent":
        return f"{value * 100:.1f} %"
    if kind == "days":
        return f"{value:.2f}"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def targets_met(result: dict) -> dict[str, bool]:
    return {"feasible ≥ 98 % confirmed": (result["feasible_confirmed_share"] or 0) >= 0.98,
            "median ≤ 2 days": (result["median_days_to_confirmation"] or math.inf) <= 2,
            "handed back ≤ 5 %": (result["handed_back_share"] or 0) <= 0.05,
            "no trainer above their limits": result["over_limits"] == 0}


def charts(results: dict[str, dict], months: list[tuple[int, int]], folder: Path) -> list[str]:
    import pygal

    names = []
    labels = [f"{year}-{month:02d}" for year, month in months]
    for key, title in CHARTS:
        chart = pygal.Line(title=title, x_label_rotation=30, show_dots=True, width=800, height=360,
                           disable_xml_declaration=False)
        chart.x_labels = labels
        for policy, result in results.items():
            chart.add(POLICY_NAMES[policy], result["series"][key])
        name = f"simulation-{key.replace('_', '-')}.svg"
        (folder / name).write_bytes(chart.render())
        names.append(name)
    return names


def markdown(parameters: Parameters, scenario_summary: dict, results: dict[str, dict], chart_names: list[str],
             seconds: dict[str, float], command: str = "python -m bench.simulate") -> str:
    lines = ["# A national school year, simulated (issue #20)", "",
             f"`{command}` (see bench/simulate.py for what is played and how).", "",
             "## Figures", "", "| figure | target (autopilot) | " + " | ".join(POLICY_NAMES[p] for p in results)
             + " |", "| --- | --- | " + " | ".join("---" for _ in results) + " |"]
    for key, label, kind, target in FIGURE_ROWS:
        lines.append(f"| {label} | {target} | " + " | ".join(_shown(r["figures"][key], kind)
                                                           for r in results.values()) + " |")
    lines.append("| (trainer, week or month) above the trainer's limit | 0 | "
                 + " | ".join(str(r["over_limits"]) for r in results.values()) + " |")
    for key, label in (("sessions", "Sessions (requests not cancelled by their establishment)"),
                       ("feasible", "… feasible when accepted"),
                       ("feasible_refused_by_all", "… feasible, then turned down by every trainer who could give "
                                                   "them (declined, let expire, withdrawn ill or on leave)"),
                       ("confirmed", "… confirmed"),
                       ("handed_back", "… handed back")):
        lines.append(f"| {label} | | " + " | ".join(str(r["figures"][key]) for r in results.values()) + " |")
    lines.append("| Feasible sessions not confirmed, by final state | | "
                 + " | ".join(", ".join(f"{state} {count}" for state, count in
                                        r["figures"]["feasible_unconfirmed_states"].items()) or "–"
                              for r in results.values()) + " |")
    lines.append("| Feasible sessions not confirmed, by the autopilot's reason before their windows passed | | "
                 + " | ".join(", ".join(f"{reason} {count}" for reason, count in
                                        r["figures"]["feasible_unconfirmed_reasons"].items()) or "–"
                              for r in results.values()) + " |")
    lines.append("| Ticks; ticks where the autopilot job failed | | "
                 + " | ".join(f"{r['ticks']}; {r['tick_errors']}" for r in results.values()) + " |")
    lines.append("| Offers answered: accepted, declined | | "
                 + " | ".join(f"{r['answers'].get('accepted', 0)}, {r['answers'].get('declined', 0)}"
                              for r in results.values()) + " |")
    lines.append("| Wall-clock time of the run (s) | | " + " | ".join(f"{seconds[p]:.0f}" for p in results) + " |")
    if "autopilot" in results:
        met = targets_met({**results["autopilot"]["figures"], "over_limits": results["autopilot"]["over_limits"]})
        lines += ["", "Autopilot targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}"
                                                        for name, ok in met.items()) + "."]
    lines += ["", "## Scenario", ""] + [f"- {name}: {value}" for name, value in scenario_summary.items()]
    lines += ["", "## Parameters", "", "| parameter | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in parameters.table()]
    lines += ["", "## Definitions", "",
              "- A session is *feasible* if, when its request was accepted, the planner's loading "
              "(`load_planning_problem` over its windows) gave it an option: an eligible trainer free at a start "
              "(two at one start for a pair), within their weekly and monthly limits.",
              "- *Confirmed*: every trainer needed accepted (the session ended confirmed, done or not held; a session "
              "withdrawn for an illness and confirmed again counts once, from its first confirmation).",
              "- Sessions of requests cancelled or moved by their establishment are left out of every figure (a "
              "moved request comes back as a new one).",
              "- *Turned down by every trainer who could give it*: each trainer with an option when it was accepted "
              "declined it, let the offer expire or was withdrawn from it (ill, on leave), fewer of them left than it "
              "needs; nobody is asked twice for a session, so no policy could confirm it with them. The line below "
              "*Feasible sessions confirmed* leaves these out: what the planning itself lost.",
              "- *Handed back*: the session was flagged for the coordination (three unanswered offers, or no "
              "candidate left), at least once.",
              "- Workload: sessions given per trainer of the simulated scopes; max/median over those with at least "
              "one, Gini over all of them. Kilometres: the trainers' one-way distances, summed per session.",
              "", "## Charts", ""]
    lines += [f"![{name}]({name})" for name in chart_names]
    return "\n".join(lines) + "\n"


def summarise(run: Run, scenario: Scenario) -> dict:
    facts = session_facts(run, scenario)
    first, last = scenario.parameters.first_day, scenario.parameters.last_day
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + (month == 12), month % 12 + 1)
    return {"figures": figures(facts, scenario.trainer_ids),
            "over_limits": over_limits(scenario.trainer_ids, first, last),
            "series": monthly_series(facts, scenario.trainer_ids, months), "months": months,
            "ticks": run.ticks, "tick_errors": run.tick_errors,
            "weekly_plans": run.weekly_plans, "answers": dict(run.answers),
            "refusals": dict(sorted(run.refusals.items())),
            "not_submitted": sum(1 for t in run.tracked.values() if t.refused)}


def scenario_summary(scenario: Scenario) -> dict:
    arrivals = scenario.arrivals
    return {"départements": len({code for code, _ in scenario.scopes}), "scopes (département × force)":
            len(scenario.scopes), "trainers": len(scenario.trainer_ids), "requests submitted": len(arrivals),
            "sessions requested": sum(a.groups for a in arrivals),
            "requests for two trainers": sum(1 for a in arrivals if a.pair),
            "cancelled by the establishment": sum(1 for a in arrivals if a.cancel_at and a.moved_to is None),
            "moved by the establishment": sum(1 for a in arrivals if a.moved_to is not None),
            "illnesses": sum(1 for a in scenario.absences if a.kind == "illness"),
            "leaves": sum(1 for a in scenario.absences if a.kind == "leave"),
            "requests by month": dict(sorted(Counter(a.submit_at.strftime("%Y-%m") for a in arrivals).items()))}


# -- the command ------------------------------------------------------------------------------------


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    from bench.data import DEMO_TODAY
    from bench.database import prepare_database, temporary_workdir

    parser = argparse.ArgumentParser(prog="python -m bench.simulate", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=Parameters.seed)
    parser.add_argument("--scale", type=float, default=Parameters.scale,
                        help="share of the départements simulated (default 1: the whole country)")
    parser.add_argument("--departements", default="", help="comma-separated codes, instead of --scale")
    parser.add_argument("--first-day", type=date.fromisoformat, default=Parameters.first_day)
    parser.add_argument("--last-day", type=date.fromisoformat, default=Parameters.last_day)
    parser.add_argument("--sessions-per-trainer", type=float, default=Parameters.sessions_per_trainer,
                        help="sessions requested a school year, per trainer of the scope")
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--write", action="store_true", help="write bench/results/simulation.md and its charts")
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args(argv)
    parameters = Parameters(seed=args.seed, scale=args.scale, first_day=args.first_day, last_day=args.last_day,
                            sessions_per_trainer=args.sessions_per_trainer,
                            departements=tuple(c for c in args.departements.split(",") if c))
    policies = [p for p in args.policies.split(",") if p]
    results: dict[str, dict] = {}
    seconds: dict[str, float] = {}
    summary: dict = {}
    with temporary_workdir() as workdir:
        for policy in policies:
            folder = Path(workdir) / policy
            folder.mkdir()
            app, database = prepare_database(None, folder, seed=2026, today=DEMO_TODAY, use_cache=not args.no_cache)
            _log(f"{policy}: national data set {database.origin} ({database.seconds:.0f} s)")
            with app.app_context():
                scenario = draw_scenario(db.session, parameters)
                db.session.rollback()
                summary = scenario_summary(scenario)
                _log(f"{policy}: {summary['requests submitted']} requests, {summary['trainers']} trainers")
                run = Player(scenario, policy, _log).play()
                seconds[policy] = run.seconds
                results[policy] = summarise(run, scenario)
                db.session.remove()
                db.engine.dispose()
    for policy, result in results.items():
        _log(f"{policy}: {json.dumps(result['figures'], default=str)} over limits: {result['over_limits']} "
             f"refusals: {result['refusals']}")
    chart_names = []
    if args.write:
        chart_names = charts(results, results[policies[0]]["months"], RESULTS_DIR)
    command = " ".join(["python -m bench.simulate", *(sys.argv[1:] if argv is None else argv)])
    text = markdown(parameters, summary, results, chart_names, seconds, command)
    print(text)
    if args.write:
        (RESULTS_DIR / "simulation.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
