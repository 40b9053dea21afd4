"""Planning a period from the database: load the sessions and trainers, plan, and commit as offers.

`load_planning_problem` turns every session to schedule of a scope and period into its options
(trainer, start, km: one start an hour from each day's first, and the day's last, that the trainer can
give by the same named rules as the interactive ranking), with each session's duration and place;
`plan_period` then solves it exactly. Loading takes a fixed number of queries per time zone.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.domain.availability import load_availability, travel_minutes_for
from app.domain.changes import Change
from app.domain.eligibility import (
    SessionNeed,
    TrainerProfile,
    availability_exclusion,
    day_exclusions,
    static_exclusions,
)
from app.domain.matching import load_trainer_profiles, load_workloads, session_need
from app.domain.offers import OfferSettings, make_offer
from app.domain.planning import Option, Plan, SessionToPlan, TrainerLimits, plan_period
from app.domain.ranking import Window, candidate_starts
from app.domain.refusals import Refused
from app.domain.timezones import to_local
from app.formatting import number_text
from app.models import (
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    RequestStatus,
    RequestWindow,
    Trainer,
    User,
)
from app.models.trainers import trainer_departement

Progress = Callable[[str, int, int], None]


@dataclass
class PlanningProblem:
    sessions: list[SessionToPlan]
    limits: dict[int, TrainerLimits]
    interventions: dict[int, Intervention] = field(default_factory=dict)
    trainers: dict[int, Trainer] = field(default_factory=dict)
    durations: dict[int, timedelta] = field(default_factory=dict)


def _sessions_query(date_from: date, date_to: date, departement_codes: list[str] | None, force: Force | None):
    overlapping = (select(RequestWindow.request_id)
                   .where(RequestWindow.start_date <= date_to, RequestWindow.end_date >= date_from))
    query = (select(Intervention)
             .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
             .where(Intervention.status == InterventionStatus.TO_SCHEDULE, Intervention.force.is_not(None),
                    InterventionRequest.status.in_((RequestStatus.IN_PLANNING, RequestStatus.SCHEDULED)),
                    InterventionRequest.id.in_(overlapping))
             .options(selectinload(Intervention.assignments),
                      selectinload(Intervention.request).selectinload(InterventionRequest.topics),
                      selectinload(Intervention.request).selectinload(InterventionRequest.audiences),
                      selectinload(Intervention.request).selectinload(InterventionRequest.windows),
                      selectinload(Intervention.request).selectinload(InterventionRequest.establishment))
             .order_by(InterventionRequest.accepted_at, Intervention.id))
    if departement_codes:
        query = query.where(Intervention.departement_code.in_(departement_codes))
    if force is not None:
        query = query.where(Intervention.force == force)
    return query


def half_day(moment: datetime, timezone_name: str) -> tuple[date, str]:
    local = to_local(moment, timezone_name)
    return local.date(), "am" if local.hour < 12 else "pm"


# The starts the planner weighs on each day: from the first, one an hour, and the last (so that two sessions
# can follow each other in a window). Every half hour would double the model for little: the offers and the
# candidates page still take any half hour.
PLANNING_START_STEP = timedelta(hours=1)


def planning_starts(starts: list[tuple[datetime, datetime]], timezone_name: str) -> list[tuple[datetime, datetime]]:
    """Every `PLANNING_START_STEP` from the first start of each local day, and the day's last start."""
    by_day: dict[date, list[tuple[datetime, datetime]]] = defaultdict(list)
    for start in starts:
        by_day[to_local(start[0], timezone_name).date()].append(start)
    kept: list[tuple[datetime, datetime]] = []
    for day in sorted(by_day):
        first = by_day[day][0][0]
        kept += [s for n, s in enumerate(by_day[day])
                 if (s[0] - first) % PLANNING_START_STEP == timedelta(0) or n == len(by_day[day]) - 1]
    return kept


def load_planning_problem(session: Session, *, date_from: date, date_to: date, departement_codes: list[str] | None,
                          force: Force | None, now: datetime, progress: Progress | None = None) -> PlanningProblem:
    """Every session to schedule in the scope whose windows meet the period, with its options."""
    interventions = session.scalars(_sessions_query(date_from, date_to, departement_codes, force)).all()
    codes = sorted({i.departement_code for i in interventions})
    pool = Trainer.active & Trainer.id.in_(select(trainer_departement.c.trainer_id)
                                           .where(trainer_departement.c.departement_code.in_(codes)))
    # Profiles from plain rows; the objects (names, offers to commit) without their lists of codes.
    profiles, _limits = load_trainer_profiles(session, pool) if codes else ([], [])
    trainers = session.scalars(select(Trainer).where(pool).order_by(Trainer.id)).all() if codes else []
    pools: dict[str, list[TrainerProfile]] = defaultdict(list)
    for profile in profiles:
        for code in sorted(profile.departement_codes):
            pools[code].append(profile)

    # Start times of each session, inside both its windows and the period, grouped by time zone.
    needs: dict[int, SessionNeed] = {}
    starts_of: dict[int, list[tuple[datetime, datetime]]] = {}
    by_zone: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for intervention in interventions:
        request = intervention.request
        establishment = request.establishment
        need = needs[intervention.id] = session_need(intervention)
        windows = [Window(max(w.start_date, date_from), min(w.end_date, date_to), w.start_time, w.end_time)
                   for w in request.windows if w.start_date <= date_to and w.end_date >= date_from]
        starts = [s for s in candidate_starts(windows, timedelta(minutes=request.duration_minutes), need.timezone,
                                              need.departement_code, establishment.holiday_zone,
                                              establishment.kind.is_school,
                                              saturday_classes=establishment.saturday_classes) if s[0] > now]
        starts_of[intervention.id] = starts = planning_starts(starts, need.timezone)
        by_zone[need.timezone] += starts

    limits: dict[int, TrainerLimits] = {}
    all_starts = sorted(s for starts in by_zone.values() for s in starts)
    availabilities = (load_availability(session, [t.id for t in trainers], all_starts[0][0], all_starts[-1][1])
                      if trainers and all_starts else {})
    zone_codes: dict[str, set[str]] = defaultdict(set)
    for need in needs.values():
        zone_codes[need.timezone].add(need.departement_code)
    by_id = {t.id: t for t in trainers}
    for zone, starts in by_zone.items():
        zone_ids = sorted({p.trainer_id for code in zone_codes[zone] for p in pools.get(code, [])})
        zone_trainers = [by_id[trainer_id] for trainer_id in zone_ids]
        for trainer_id, workload in load_workloads(session, zone_trainers, sorted(starts), zone).items():
            limits.setdefault(trainer_id, workload)
    for trainer in trainers:
        limits.setdefault(trainer.id, TrainerLimits(trainer.id, trainer.max_sessions_per_week,
                                                    trainer.max_sessions_per_month))

    sessions: list[SessionToPlan] = []
    # The rules of `timed_exclusions`, asked in parts: a start's half-day once per session, the day's rules
    # once per trainer and day (they do not depend on the session), the travel once per trainer and session.
    day_refusals: dict[tuple[int, date], bool] = {}
    for rank, intervention in enumerate(interventions):
        if progress:
            progress("options", rank + 1, len(interventions))
        need = needs[intervention.id]
        slots = [(start, end, half_day(start, need.timezone)) for start, end in starts_of[intervention.id]]
        options: list[Option] = []
        # A session with no start left (its windows past) has no option; nor, when no session has one, was any
        # trainer's availability loaded.
        for trainer in pools.get(need.departement_code, []) if slots else []:
            if static_exclusions(need, trainer, explain=False):
                continue
            distance = trainer.distance_km(need)
            km, travel = round(distance, 1), travel_minutes_for(distance)
            workload, availability = limits[trainer.trainer_id], availabilities[trainer.trainer_id]
            for start, end, slot in slots:
                # Every workable start: the planner places sessions at their real times, several a day.
                day_key = (trainer.trainer_id, slot[0])
                if day_key not in day_refusals:
                    day_refusals[day_key] = bool(day_exclusions(trainer, slot[0], workload))
                if day_refusals[day_key]:
                    continue
                if availability_exclusion(need, start, end, availability, travel, explain=False) is None:
                    options.append(Option(trainer.trainer_id, slot[0], slot[1], start, km))
        sessions.append(SessionToPlan(intervention.id, intervention.trainers_needed, options, arrival_rank=rank,
                                      duration=timedelta(minutes=intervention.request.duration_minutes),
                                      place_key=intervention.request.establishment_id))
    return PlanningProblem(sessions, limits, {i.id: i for i in interventions}, by_id,
                           {i.id: timedelta(minutes=i.request.duration_minutes) for i in interventions})


def plan_fingerprint(plan: Plan) -> str:
    """Identifies a plan, so that committing refuses one that differs from the preview."""
    text = ";".join(f"{a.intervention_id}:{a.trainer_id}:{a.starts_at.isoformat()}"
                    for a in sorted(plan.assignments, key=lambda a: (a.intervention_id, a.trainer_id)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def solve(problem: PlanningProblem, time_limit: float | None = None) -> Plan:
    """The exact plan of the problem; `time_limit` in seconds (RELAIS_PLANNING_TIME_LIMIT), else the default."""
    return plan_period(problem.sessions, problem.limits, time_limit=time_limit)


def proof_text(plan: Plan) -> str:
    """What the solver proved, in French, for the command line (the page words it through its catalogue)."""
    report = plan.report
    if report is None:
        return "Plan heuristique, sans preuve d'optimalité"
    seconds = number_text(report.time_limit, locale="fr")
    if report.status == "optimal":
        return "Plan optimal (prouvé)"
    if report.served_optimal:
        return (f"Nombre d'interventions servies optimal (prouvé) ; kilomètres et équilibre à "
                f"{number_text(report.cost_gap * 100, 1, 'fr')} % de l'optimum au plus, arrêté après {seconds} s")
    return (f"Plan à {number_text(report.served_gap * 100, 1, 'fr')} % de l'optimum au plus, arrêté après "
            f"{seconds} s (au plus {report.served_bound} interventions servies)")


@dataclass
class PlanRun:
    """A plan and the figures shown before committing it (the same on the page and the command line)."""

    problem: PlanningProblem
    plan: Plan
    greedy: Plan

    @property
    def fingerprint(self) -> str:
        return plan_fingerprint(self.plan)

    @property
    def considered(self) -> int:
        return len(self.problem.sessions)

    @property
    def offers(self) -> int:
        return len(self.plan.assignments)

    @property
    def planned_per_trainer(self) -> dict[int, tuple[int, float]]:
        """Sessions planned and km driven for each trainer of the plan, busiest first."""
        per: dict[int, list] = defaultdict(lambda: [0, 0.0])
        for assignment in self.plan.assignments:
            per[assignment.trainer_id][0] += 1
            per[assignment.trainer_id][1] += assignment.km
        return {t: (n, round(km, 1)) for t, (n, km) in sorted(per.items(), key=lambda item: (-item[1][0], item[0]))}

    def figures(self) -> dict[str, float | int]:
        return {"interventions": self.considered, "servies": self.plan.served_sessions,
                "non_servies": len(self.plan.unserved), "propositions": self.offers, "km": self.plan.total_km,
                "formateurs": len(self.planned_per_trainer),
                "servies_premier_arrive": self.greedy.served_sessions, "km_premier_arrive": self.greedy.total_km}


def run_planning(session: Session, *, date_from: date, date_to: date, departement_codes: list[str] | None,
                 force: Force | None, now: datetime, progress: Progress | None = None,
                 time_limit: float | None = None) -> PlanRun:
    """Loads, plans, and plans again first come first served, for comparison."""
    from app.domain.planning import plan_greedy

    problem = load_planning_problem(session, date_from=date_from, date_to=date_to,
                                    departement_codes=departement_codes, force=force, now=now, progress=progress)
    return PlanRun(problem, solve(problem, time_limit), plan_greedy(problem.sessions, problem.limits))


@dataclass
class CommitResult:
    offered_sessions: int = 0
    offers: int = 0
    skipped: dict[int, str] = field(default_factory=dict)  # session → refusal code
    change: Change = field(default_factory=Change)


def commit_plan(session: Session, problem: PlanningProblem, plan: Plan, actor: User | None, now: datetime,
                settings: OfferSettings, progress: Progress | None = None) -> CommitResult:
    """Sends the plan's offers in one transaction; a session that changed meanwhile is skipped, not forced."""
    result = CommitResult()
    by_session: dict[int, list] = defaultdict(list)
    for assignment in plan.assignments:
        by_session[assignment.intervention_id].append(assignment)
    for number, (intervention_id, planned) in enumerate(sorted(by_session.items()), start=1):
        if progress:
            progress("offres", number, len(by_session))
        intervention = problem.interventions[intervention_id]
        duration = problem.durations[intervention_id]
        made = 0
        for assignment in planned:
            try:
                change = make_offer(session, intervention, problem.trainers[assignment.trainer_id],
                                    assignment.starts_at, assignment.starts_at + duration, actor, now, settings,
                                    assignment.km)
            except Refused as refusal:
                result.skipped[intervention_id] = refusal.code
                break
            result.change += change
            made += 1
        result.offers += made
        result.offered_sessions += 1 if made else 0
    return result
