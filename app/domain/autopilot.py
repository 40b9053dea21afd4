"""The autopilot (issue #20, continuous planning): sessions planned as they are accepted, scope by scope.

Each coordination scope (département × force) has a mode its coordinators choose (`AutopilotMode`, default
"proposed"). `autopilot_tick`, a periodic job of `flask tick`, plans each scope in "proposed" or "automatic" mode
with the planner (`plan_builder.load_planning_problem` and `solve`) over a rolling horizon (the next
`horizon_weeks` weeks), then:

- "automatic": sends the offers at once (`offers.make_offer`, actor None: the history says « Relais »);
- "proposed": keeps them as the scope's proposal (`AutopilotProposal`), which a coordinator sends in one click
  (`send_proposal`); each tick prepares it again when the plan changed;
- "manual": nothing (the coordination plans as before; no proposal is kept).

What it never does: withdraw a live offer or move a confirmed session. It plans only the sessions to schedule
with no live offer (the planner's own set), skips those handed back to the coordination (`attention_reason`),
and checks again, session by session under its row lock, that nobody offered it meanwhile. A trainer receives at
most `offers_per_day` offers a (local) day, whoever sent them: the planner does not see trainers at that cap,
and a plan that would exceed it keeps the earliest sessions. For each session it could not serve, the reason is
kept (`AutopilotNote`) and shown to the coordination, with one line in the history when it changes.

In "automatic" mode a declined or expired offer does not cascade to the next candidate (`takes_over`): the
session is free again and the next tick plans it with the others; after `OfferSettings.max_tries` refusals it is
handed back to the coordination as before. A session for two whose second trainer declined keeps its time: the
tick offers that time to the best remaining candidate (`_top_up`); when nobody else can come then, the session is
noted as short of a trainer (`NO_SECOND`) and waits on the coordination's home like the sessions not served.

Safe twice at once: a tick locks the scope's setting row (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, where a
second tick skips the scope; SQLite has one writer at a time), and each session's offers are written under the
session's row lock after checking it still has no live offer, in a savepoint: a pair is offered whole or not.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from app.domain.changes import Change, record_event
from app.domain.eligibility import ASKED_REASONS, SessionNeed, TrainerProfile, static_exclusions
from app.domain.locks import lock_sessions
from app.domain.matching import load_pool_profiles, rank_intervention, session_need
from app.domain.offers import LIVE, OfferSettings, make_offer, offerable_starts
from app.domain.plan_builder import PlanningProblem, load_planning_problem, solve
from app.domain.planning import NO_CAPACITY, NO_OPTION, NO_PAIR, Plan, PlannedAssignment
from app.domain.policies import territory_condition
from app.domain.ranking import Window, candidate_starts
from app.domain.refusals import Refused
from app.domain.scope_changes import ScopeChanges, last_entry_id, scope_changes_after
from app.domain.timezones import to_local, to_utc
from app.domain.vocabulary import N_
from app.models import (
    Assignment,
    AutopilotMode,
    AutopilotNote,
    AutopilotProposal,
    AutopilotProposalItem,
    AutopilotSetting,
    Departement,
    Force,
    HomeVisit,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    RequestStatus,
    RequestWindow,
    Trainer,
    User,
)
from app.models.autopilot import DEFAULT_MODE
from app.models.base import insert_for

Scope = tuple[str, Force]

# Why the autopilot could not serve a session (French, shown translated through vocabulary.stored_text).
NO_START = N_("Aucun créneau possible : les fenêtres demandées sont passées, trop courtes ou en vacances "
              "scolaires.")
NO_ELIGIBLE = N_("Aucun formateur ne remplit toutes les règles pour cette intervention (force, thèmes, publics, "
                 "distance, habilitation).")
AT_LIMITS = N_("Les formateurs qui remplissent les règles sont indisponibles ou à leurs limites (semaine, mois) "
               "sur tous les créneaux demandés.")
TURNED_DOWN = N_("Les formateurs qui pouvaient venir ont décliné, laissé expirer la proposition ou été retirés, et "
                 "aucun autre n'est disponible sur les créneaux demandés : proposez d'autres dates à l'établissement "
                 "ou faites appel à un formateur d'un département voisin.")
NO_SECOND = N_("Il manque un formateur : aucun autre ne peut venir à l'horaire déjà accepté. Trouvez-en un, ou "
               "voyez avec l'établissement (un seul formateur, un autre horaire).")
DAILY_CAP = N_("Les formateurs possibles ont déjà reçu aujourd'hui le nombre maximal de propositions : nouvel "
               "essai demain.")
# The answers (or their absence) by which a trainer turned a session down, as eligibility names them: nobody is asked
# twice.
TURNED_DOWN_STATUSES = frozenset(status for status, (rule, _reason) in ASKED_REASONS.items() if rule == "deja-decline")
# The sessions a note can be about: still to schedule, or offered but short of a trainer (NO_SECOND).
WAITING_FOR_TRAINERS = (InterventionStatus.TO_SCHEDULE, InterventionStatus.OFFERED)
# The planner's reasons, kept as they are worded (app.domain.planning).
PLANNER_REASONS = (NO_OPTION, NO_CAPACITY, NO_PAIR)

# A visit to the home page lasts while the page is seen again within this delay; the first one looks back a week.
VISIT_GAP = timedelta(hours=1)
FIRST_LOOK_BACK = timedelta(days=7)


@dataclass(frozen=True)
class AutopilotSettings:
    horizon_weeks: int = 10
    offers_per_day: int = 3
    offers: OfferSettings = field(default_factory=OfferSettings)
    time_limit: float | None = None  # of the planner, per scope (RELAIS_PLANNING_TIME_LIMIT); None: its default

    @classmethod
    def from_config(cls, config) -> AutopilotSettings:
        return cls(horizon_weeks=config["RELAIS_AUTOPILOT_HORIZON_WEEKS"],
                   offers_per_day=config["RELAIS_AUTOPILOT_OFFERS_PER_DAY"],
                   offers=OfferSettings.from_config(config), time_limit=config.get("RELAIS_PLANNING_TIME_LIMIT"))


# -- the modes ---------------------------------------------------------------------------------------


def mode_of(session: Session, departement_code: str, force: Force | str | None) -> AutopilotMode:
    if force is None:
        return AutopilotMode.MANUAL
    mode = session.scalar(select(AutopilotSetting.mode).where(AutopilotSetting.departement_code == departement_code,
                                                              AutopilotSetting.force == Force(force)))
    return mode or DEFAULT_MODE


def modes_of(session: Session, scopes: list[Scope]) -> dict[Scope, AutopilotMode]:
    """The mode of each scope (the default where none was chosen)."""
    codes = {code for code, _ in scopes}
    stored = {(row.departement_code, row.force): row.mode for row in session.execute(
        select(AutopilotSetting.departement_code, AutopilotSetting.force, AutopilotSetting.mode)
        .where(AutopilotSetting.departement_code.in_(codes)))} if codes else {}
    return {scope: stored.get(scope, DEFAULT_MODE) for scope in scopes}


def set_mode(session: Session, departement_code: str, force: Force, mode: AutopilotMode, actor: User,
             now: datetime) -> bool:
    """Sets a scope's mode; returns whether it changed. Out of "proposed", the waiting proposal is dropped."""
    before = mode_of(session, departement_code, force)
    insert = insert_for(session)
    session.execute(insert(AutopilotSetting).values(departement_code=departement_code, force=force, mode=mode,
                                                    updated_at=now, updated_by_id=actor.id)
                    .on_conflict_do_update(index_elements=["departement_code", "force"],
                                           set_={"mode": mode.value, "updated_at": now, "updated_by_id": actor.id}))
    if mode is not AutopilotMode.PROPOSED:
        _drop_proposal(session, (departement_code, force))
    # The next tick plans the scope again, whatever it planned from before.
    session.execute(update(AutopilotSetting).where(AutopilotSetting.departement_code == departement_code,
                                                   AutopilotSetting.force == force)
                    .values(planned_inputs=None, inputs_read_through=None)
                    .execution_options(synchronize_session=False))
    return before is not mode


def takes_over(session: Session, intervention: Intervention) -> bool:
    """Whether the autopilot, rather than the cascade, offers this session again after a decline or an expiry."""
    return (intervention.force is not None
            and mode_of(session, intervention.departement_code, intervention.force) is AutopilotMode.AUTOMATIC)


# -- the tick ----------------------------------------------------------------------------------------


@dataclass
class ScopeOutcome:
    scope: Scope
    mode: AutopilotMode
    considered: int = 0
    offers: int = 0  # sent ("automatic") or proposed ("proposed")
    sessions: int = 0  # offered or proposed
    unserved: dict[int, str] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)  # session → refusal code at sending
    change: Change = field(default_factory=Change)
    skipped_unchanged: bool = False  # the same inputs as the last tick's: not planned again
    skipped_unread: bool = False  # … known without reading them (no newer entry of the audit trail concerns them)


def scopes_to_plan(session: Session) -> list[Scope]:
    """Scopes with sessions waiting for a trainer, or with a proposal to refresh, in a planning mode."""
    staffable = (select(Intervention.departement_code, Intervention.force)
                 .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
                 .where(Intervention.force.is_not(None),
                        Intervention.status.in_((InterventionStatus.TO_SCHEDULE, InterventionStatus.OFFERED)),
                        InterventionRequest.status.in_((RequestStatus.IN_PLANNING, RequestStatus.SCHEDULED)))
                 .distinct())
    scopes = {(code, force) for code, force in session.execute(staffable)}
    scopes |= {(code, force) for code, force in session.execute(
        select(AutopilotProposal.departement_code, AutopilotProposal.force))}
    modes = modes_of(session, sorted(scopes))
    return [scope for scope in sorted(scopes) if modes[scope] is not AutopilotMode.MANUAL]


def _claim_scope(session: Session, scope: Scope, now: datetime):
    """Locks the scope's setting row for this transaction (made with the default mode if missing) and returns its
    mode and what it was last planned from; None when another tick holds it (PostgreSQL's SKIP LOCKED)."""
    code, force = scope
    row = (select(AutopilotSetting.mode, AutopilotSetting.planned_at, AutopilotSetting.planned_inputs,
                  AutopilotSetting.inputs_read_through)
           .where(AutopilotSetting.departement_code == code, AutopilotSetting.force == force))
    claimed = session.execute(row.with_for_update(skip_locked=True)).first()
    if claimed is not None or session.scalar(select(row.exists())):
        return claimed  # None: the row exists, another tick holds it (an INSERT would wait for that tick to end)
    session.execute(insert_for(session)(AutopilotSetting)
                    .values(departement_code=code, force=force, mode=DEFAULT_MODE, updated_at=now)
                    .on_conflict_do_nothing(index_elements=["departement_code", "force"]))
    return session.execute(row.with_for_update(skip_locked=True)).first()


def scope_changes(session: Session, scopes: list[Scope]) -> ScopeChanges:
    """What the audit trail says changed since these scopes' inputs were last read: one reading for a whole tick."""
    wanted = set(scopes)
    marks = [mark for code, force, mark in session.execute(
        select(AutopilotSetting.departement_code, AutopilotSetting.force, AutopilotSetting.inputs_read_through))
        if (code, force) in wanted and mark is not None]
    return scope_changes_after(session, min(marks)) if marks else ScopeChanges(last_entry_id(session))


def plan_scope(session: Session, scope: Scope, now: datetime, settings: AutopilotSettings,
               changes: ScopeChanges | None = None) -> ScopeOutcome | None:
    """One scope's turn of the tick (None: another tick is planning it). With `changes` (`scope_changes`, read at
    the start of the tick), a scope whose inputs were read today and that no later entry of the audit trail
    concerns is not read again: what it planned from is what it would read."""
    claimed = _claim_scope(session, scope, now)
    if claimed is None:
        return None
    mode = claimed.mode
    outcome = ScopeOutcome(scope, mode)
    if mode is AutopilotMode.MANUAL:
        _drop_proposal(session, scope)
        return outcome
    code, force = scope
    zone = session.get(Departement, code).timezone
    today = to_local(now, zone).date()
    last_day = today + timedelta(weeks=settings.horizon_weeks) - timedelta(days=1)
    # A new day moves the horizon and the daily cap; starts passing within the day only take options away.
    if (changes is not None and claimed.inputs_read_through is not None and claimed.planned_at is not None
            and to_local(claimed.planned_at, zone).date() == today
            and not changes.since(scope, claimed.inputs_read_through)):
        # Not even topped up: nothing was written for the scope since the tick that last read it, and topped it up.
        outcome.skipped_unread = True
        return _as_planned(session, outcome, last_day, now, settings, top_up=False)
    read_through = last_entry_id(session)  # before reading: an entry written meanwhile is newer
    problem = load_planning_problem(session, date_from=today, date_to=last_day, departement_codes=[code],
                                    force=force, now=now)
    # Sessions handed back to the coordination are theirs now (the flag says why, not an older reason of Relais).
    handed_back = {s.intervention_id for s in problem.sessions
                   if problem.interventions[s.intervention_id].attention_reason is not None}
    problem.sessions = [s for s in problem.sessions if s.intervention_id not in handed_back]
    outcome.considered = len(problem.sessions)
    left = offers_left_today(session, list(problem.trainers), now, zone, settings.offers_per_day)
    gone = _windows_gone(session, scope, today)
    inputs = inputs_fingerprint(problem, left, mode, today, [i.id for i in gone])
    if inputs == claimed.planned_inputs:
        _read_through(session, scope, read_through)
        return _as_planned(session, outcome, last_day, now, settings)
    plan, capped = _plan_within_cap(problem, left, settings.time_limit)
    planned: dict[int, list[PlannedAssignment]] = defaultdict(list)
    for assignment in plan.assignments:
        planned[assignment.intervention_id].append(assignment)
    reasons = {**{i: DAILY_CAP for i in capped}, **plan.unserved}
    for session_to_plan in problem.sessions:
        if session_to_plan.intervention_id not in planned:
            reasons.setdefault(session_to_plan.intervention_id, NO_CAPACITY)
    reasons = _explain(session, problem, reasons, today, last_day, now)
    for intervention in gone:
        problem.interventions.setdefault(intervention.id, intervention)
        reasons[intervention.id] = NO_START
    if mode is AutopilotMode.AUTOMATIC:
        _drop_proposal(session, scope)
        sent = send_planned(session, problem.interventions, problem.durations, planned, None, now, settings)
        outcome.offers, outcome.sessions, outcome.skipped, outcome.change = sent
        outcome.change += _top_up(session, scope, last_day, now, settings)
    else:
        _keep_proposal(session, scope, planned, now)
        outcome.offers = sum(len(a) for a in planned.values())
        outcome.sessions = len(planned)
    outcome.unserved = reasons
    note_unserved(session, problem.interventions, reasons, (set(planned) - set(outcome.skipped)) | handed_back, now)
    session.execute(update(AutopilotSetting).where(AutopilotSetting.departement_code == code,
                                                   AutopilotSetting.force == force)
                    .values(planned_at=now, planned_inputs=inputs, inputs_read_through=read_through)
                    .execution_options(synchronize_session=False))
    return outcome


def _as_planned(session: Session, outcome: ScopeOutcome, last_day: date, now: datetime,
                settings: AutopilotSettings, *, top_up: bool = True) -> ScopeOutcome:
    """Nothing the planner reads has changed since the scope was planned today: same plan, same proposal, same
    reasons; in "automatic" mode a pair short of a trainer is still topped up, unless `top_up` is false (the top-up
    reads what the planner does: with nothing written since it last ran, it would find what it found then)."""
    outcome.skipped_unchanged = True
    if top_up and outcome.mode is AutopilotMode.AUTOMATIC:
        outcome.change += _top_up(session, outcome.scope, last_day, now, settings)
    return outcome


def inputs_fingerprint(problem: PlanningProblem, left: dict[int, int], mode: AutopilotMode, today: date,
                       windows_gone: list[int]) -> str:
    """Everything the planner reads for a scope: its sessions and their options (a trainer's new offer, absence or
    limit shows there), the trainers' limits and load, the offers they may still receive today; the sessions whose
    windows have passed; and the mode and the day (a new day moves the horizon and the cap)."""
    digest = hashlib.sha256(f"{mode.value}|{today.isoformat()}|{windows_gone}".encode())
    trainer_ids: set[int] = set()
    for item in sorted(problem.sessions, key=lambda s: s.intervention_id):
        digest.update(f"|s{item.intervention_id},{item.trainers_needed},{item.arrival_rank},{item.duration},"
                      f"{item.place_key}".encode())
        for option in item.options:
            trainer_ids.add(option.trainer_id)
            digest.update(f";{option.trainer_id},{option.starts_at.isoformat()},{option.km}".encode())
    for trainer_id in sorted(trainer_ids):
        limits = problem.limits.get(trainer_id)
        if limits is not None:
            digest.update(f"|t{trainer_id},{limits.weekly_limit},{limits.monthly_limit},{limits.load},"
                          f"{sorted(limits.week_used.items())},{sorted(limits.month_used.items())},"
                          f"{left.get(trainer_id)}".encode())
    return digest.hexdigest()


def _read_through(session: Session, scope: Scope, entry_id: int) -> None:
    code, force = scope
    session.execute(update(AutopilotSetting).where(AutopilotSetting.departement_code == code,
                                                   AutopilotSetting.force == force,
                                                   AutopilotSetting.inputs_read_through.is_distinct_from(entry_id))
                    .values(inputs_read_through=entry_id).execution_options(synchronize_session=False))


def _windows_gone(session: Session, scope: Scope, today: date) -> list[Intervention]:
    """Sessions still to schedule whose windows are all past (the planner never sees them)."""
    code, force = scope
    still_open = select(RequestWindow.id).where(RequestWindow.request_id == Intervention.request_id,
                                                RequestWindow.end_date >= today).exists()
    return list(session.scalars(
        select(Intervention).join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .where(Intervention.departement_code == code, Intervention.force == force,
               Intervention.status == InterventionStatus.TO_SCHEDULE, Intervention.attention_reason.is_(None),
               InterventionRequest.status.in_((RequestStatus.IN_PLANNING, RequestStatus.SCHEDULED)), ~still_open)
        .options(selectinload(Intervention.request)).order_by(Intervention.id)))


def _plan_within_cap(problem: PlanningProblem, left: dict[int, int], time_limit: float | None = None
                     ) -> tuple[Plan, set[int]]:
    """The plan without the trainers at their daily cap of offers, cut to the cap (earliest sessions first);
    and the sessions left out because of the cap."""
    capped: set[int] = set()
    sessions = []
    for item in problem.sessions:
        options = [o for o in item.options if left.get(o.trainer_id, 0) > 0]
        if item.options and not options:
            capped.add(item.intervention_id)
        sessions.append(replace(item, options=options))
    problem.sessions = sessions
    plan = solve(problem, time_limit) if time_limit is not None else solve(problem)
    by_session: dict[int, list[PlannedAssignment]] = defaultdict(list)
    for assignment in plan.assignments:
        by_session[assignment.intervention_id].append(assignment)
    kept: list[PlannedAssignment] = []
    remaining = dict(left)
    for intervention_id, assignments in sorted(by_session.items(),
                                               key=lambda item: (min(a.starts_at for a in item[1]), item[0])):
        if all(remaining.get(a.trainer_id, 0) > 0 for a in assignments):
            for a in assignments:
                remaining[a.trainer_id] -= 1
            kept.extend(assignments)
        else:
            capped.add(intervention_id)
    plan.assignments = kept
    plan.unserved = {i: r for i, r in plan.unserved.items() if i not in capped}
    return plan, capped


def offers_left_today(session: Session, trainer_ids: list[int], now: datetime, zone: str, per_day: int
                      ) -> dict[int, int]:
    """How many more offers each trainer may receive today (the place's local day), whoever sends them."""
    if not trainer_ids:
        return {}
    day = to_local(now, zone).date()
    start, end = to_utc(day, time(0), zone), to_utc(day + timedelta(days=1), time(0), zone)
    sent = dict(session.execute(
        select(Assignment.trainer_id, func.count(Assignment.id))
        .where(Assignment.trainer_id.in_(trainer_ids), Assignment.offered_at >= start, Assignment.offered_at < end)
        .group_by(Assignment.trainer_id)).all())
    return {trainer_id: max(per_day - sent.get(trainer_id, 0), 0) for trainer_id in trainer_ids}


def _explain(session: Session, problem: PlanningProblem, reasons: dict[int, str], today: date, last_day: date,
             now: datetime) -> dict[int, str]:
    """Words the planner's "no option" more precisely: no start at all left in the windows, no trainer meeting the
    rules, or every such trainer taken or at their limits. A session whose only starts lie beyond the horizon is
    left for later (no reason)."""
    explained: dict[int, str] = {}
    pools: dict[str, list] = {}
    for intervention_id, reason in reasons.items():
        if reason != NO_OPTION:
            explained[intervention_id] = reason
            continue
        intervention = problem.interventions[intervention_id]
        request = intervention.request
        establishment = request.establishment
        need = session_need(intervention)
        windows = [Window(w.start_date, w.end_date, w.start_time, w.end_time) for w in request.windows]
        starts = [s for s in candidate_starts(windows, timedelta(minutes=request.duration_minutes), need.timezone,
                                              need.departement_code, establishment.holiday_zone,
                                              establishment.kind.is_school, earliest=today,
                                              saturday_classes=establishment.saturday_classes) if s[0] > now]
        if not starts:
            explained[intervention_id] = NO_START
        elif to_local(starts[0][0], need.timezone).date() <= last_day:
            if need.departement_code not in pools:
                pools[need.departement_code] = load_pool_profiles(session, need.departement_code)[0]
            explained[intervention_id] = _why_no_trainer(need, pools[need.departement_code])
    return explained


def _why_no_trainer(need: SessionNeed, pool: list[TrainerProfile]) -> str:
    """No trainer meets the rules; or some who do turned the session down (declined, silent, withdrawn: never asked
    twice) and the others are taken, which the coordination must hear as such (not « no one meets the rules », not
    only « taken »); or they are all taken."""
    asked_rules = {rule for rule, _reason in ASKED_REASONS.values()}
    rules_met = [profile for profile in pool
                 if all(exclusion.rule in asked_rules for exclusion in static_exclusions(need, profile, explain=False))]
    if not rules_met:
        return NO_ELIGIBLE
    turned_down = {trainer_id for trainer_id, status in need.asked if status in TURNED_DOWN_STATUSES}
    if any(profile.trainer_id in turned_down for profile in rules_met):
        return TURNED_DOWN
    return AT_LIMITS


# -- writing offers ----------------------------------------------------------------------------------


def send_planned(session: Session, interventions: dict[int, Intervention], durations: dict[int, timedelta],
                 planned: dict[int, list[PlannedAssignment]], actor: User | None, now: datetime,
                 settings: AutopilotSettings) -> tuple[int, int, dict[int, str], Change]:
    """Offers each planned session whole (a pair both or neither), if it still has no live offer: (offers, sessions,
    session → refusal code of those skipped, the change)."""
    offers = sessions = 0
    skipped: dict[int, str] = {}
    change = Change()
    zones: dict[str, str] = {}
    for intervention_id, assignments in sorted(planned.items()):
        intervention = interventions.get(intervention_id) or session.get(Intervention, intervention_id)
        zone = zones.setdefault(intervention.departement_code,
                                session.get(Departement, intervention.departement_code).timezone)
        savepoint = session.begin_nested()
        try:
            made = _offer_session(session, intervention, assignments, durations.get(intervention_id), actor, now,
                                  settings, zone)
        except Refused as refusal:
            savepoint.rollback()
            skipped[intervention_id] = refusal.code
            continue
        savepoint.commit()
        change += made
        offers += len(assignments)
        sessions += 1
    return offers, sessions, skipped, change


def _offer_session(session: Session, intervention: Intervention, assignments: list[PlannedAssignment],
                   duration: timedelta | None, actor: User | None, now: datetime, settings: AutopilotSettings,
                   zone: str) -> Change:
    lock_sessions(session, [intervention.id])
    session.refresh(intervention)
    live = session.scalar(select(func.count(Assignment.id)).where(Assignment.intervention_id == intervention.id,
                                                                 Assignment.status.in_(LIVE)))
    # Planned while it had no live offer: someone (a coordinator, another tick) offered it meanwhile.
    if intervention.status is not InterventionStatus.TO_SCHEDULE or live:
        raise Refused("session_changed")
    left = offers_left_today(session, [a.trainer_id for a in assignments], now, zone, settings.offers_per_day)
    if any(left[a.trainer_id] <= 0 for a in assignments):
        raise Refused("offer_cap")
    duration = duration or timedelta(minutes=intervention.request.duration_minutes)
    change = Change()
    for assignment in assignments:
        trainer = session.get(Trainer, assignment.trainer_id)
        change += make_offer(session, intervention, trainer, assignment.starts_at, assignment.starts_at + duration,
                             actor, now, settings.offers, assignment.km)
    return change


def _top_up(session: Session, scope: Scope, last_day: date, now: datetime, settings: AutopilotSettings) -> Change:
    """Sessions already timed (someone asked or booked) short of a trainer, e.g. a pair whose second trainer
    declined: the time is kept, offered to the best remaining candidate."""
    code, force = scope
    live = (select(func.count(Assignment.id)).where(Assignment.intervention_id == Intervention.id,
                                                    Assignment.status.in_(LIVE)).scalar_subquery())
    zone = session.get(Departement, code).timezone
    short = session.scalars(
        select(Intervention).where(Intervention.departement_code == code, Intervention.force == force,
                                   Intervention.status == InterventionStatus.OFFERED,
                                   Intervention.attention_reason.is_(None), Intervention.starts_at > now,
                                   Intervention.starts_at < to_utc(last_day + timedelta(days=1), time(0), zone),
                                   live < Intervention.trainers_needed)
        .order_by(Intervention.starts_at, Intervention.id)).all()
    change = Change()
    unfilled: dict[int, str] = {}
    for intervention in short:
        ranking = rank_intervention(session, intervention.id, now)
        unfilled[intervention.id] = NO_SECOND
        candidates = ranking.candidates if ranking else []
        # One count for every candidate, not one query each (no offer is made before the loop ends with one).
        left = offers_left_today(session, [c.trainer_id for c in candidates], now, zone, settings.offers_per_day)
        for candidate in candidates:
            starts = offerable_starts(intervention, candidate.all_starts)
            if not starts:
                continue
            if left[candidate.trainer_id] <= 0:
                unfilled[intervention.id] = DAILY_CAP
                continue
            savepoint = session.begin_nested()
            try:
                made = make_offer(session, intervention, session.get(Trainer, candidate.trainer_id), starts[0],
                                  starts[0] + timedelta(minutes=intervention.request.duration_minutes), None, now,
                                  settings.offers, candidate.distance_km)
            except Refused:
                savepoint.rollback()
                continue
            savepoint.commit()
            change += made
            del unfilled[intervention.id]
            break
    # The coordination hears of a session left short (it waits on their home); the note goes once it is complete,
    # offered again or past.
    noted = session.scalars(select(AutopilotNote.intervention_id)
                            .join(Intervention, Intervention.id == AutopilotNote.intervention_id)
                            .where(Intervention.departement_code == code, Intervention.force == force,
                                   Intervention.status == InterventionStatus.OFFERED)).all()
    note_unserved(session, {i.id: i for i in short}, unfilled, set(noted) - set(unfilled), now)
    return change


# -- the proposal ------------------------------------------------------------------------------------


def _fingerprint(planned: dict[int, list[PlannedAssignment]]) -> str:
    text = ";".join(f"{a.intervention_id}:{a.trainer_id}:{a.starts_at.isoformat()}"
                    for items in planned.values() for a in sorted(items, key=lambda a: a.trainer_id))
    return hashlib.sha256(";".join(sorted(text.split(";"))).encode()).hexdigest()[:16]


def _drop_proposal(session: Session, scope: Scope) -> None:
    code, force = scope
    session.execute(delete(AutopilotProposal).where(AutopilotProposal.departement_code == code,
                                                    AutopilotProposal.force == force)
                    .execution_options(synchronize_session=False))


def _keep_proposal(session: Session, scope: Scope, planned: dict[int, list[PlannedAssignment]],
                   now: datetime) -> None:
    """The scope's proposal is the plan: kept as it is when unchanged, prepared again otherwise, none if empty."""
    code, force = scope
    if not planned:
        _drop_proposal(session, scope)
        return
    fingerprint = _fingerprint(planned)
    current = session.scalar(select(AutopilotProposal).where(AutopilotProposal.departement_code == code,
                                                             AutopilotProposal.force == force))
    if current is not None and current.fingerprint == fingerprint:
        return
    if current is not None:
        session.delete(current)
        session.flush()
    proposal = AutopilotProposal(departement_code=code, force=force, prepared_at=now, fingerprint=fingerprint)
    proposal.items = [AutopilotProposalItem(intervention_id=a.intervention_id, trainer_id=a.trainer_id,
                                            starts_at=a.starts_at, km=a.km)
                      for _, items in sorted(planned.items()) for a in items]
    session.add(proposal)
    session.flush()


@dataclass
class SendResult:
    offers: int = 0
    sessions: int = 0
    skipped: dict[int, str] = field(default_factory=dict)
    change: Change = field(default_factory=Change)


def send_proposal(session: Session, proposal_id: int, fingerprint: str, actor: User, now: datetime,
                  settings: AutopilotSettings) -> SendResult:
    """A coordinator sends the scope's proposal as it was shown (its fingerprint): each session still without a live
    offer is offered; the others are skipped and said. The proposal is then gone (a second click finds nothing)."""
    proposal = session.scalar(select(AutopilotProposal).where(AutopilotProposal.id == proposal_id)
                              .options(selectinload(AutopilotProposal.items)).with_for_update())
    if proposal is None or proposal.fingerprint != fingerprint:
        raise Refused("proposal_changed")
    planned: dict[int, list[PlannedAssignment]] = defaultdict(list)
    for item in proposal.items:
        planned[item.intervention_id].append(PlannedAssignment(item.intervention_id, item.trainer_id, item.starts_at,
                                                               item.km))
    session.delete(proposal)
    session.flush()
    offers, sessions, skipped, change = send_planned(session, {}, {}, planned, actor, now, settings)
    return SendResult(offers, sessions, skipped, change)


def proposals_for(session: Session, user: User) -> list[AutopilotProposal]:
    """The proposals waiting in the person's scopes, with their sessions and trainers."""
    return list(session.scalars(
        select(AutopilotProposal)
        .where(territory_condition(user, AutopilotProposal.departement_code,
                                   lambda force: AutopilotProposal.force == force))
        .options(selectinload(AutopilotProposal.items).selectinload(AutopilotProposalItem.trainer),
                 selectinload(AutopilotProposal.items).selectinload(AutopilotProposalItem.intervention)
                 .selectinload(Intervention.request).selectinload(InterventionRequest.establishment))
        .order_by(AutopilotProposal.departement_code, AutopilotProposal.force)))


# -- why a session is not served ---------------------------------------------------------------------


def note_unserved(session: Session, interventions: dict[int, Intervention], reasons: dict[int, str],
                  settled: set[int], now: datetime) -> None:
    """Keeps each unserved session's reason (a history line when it changes) and forgets those of the sessions now
    `settled` (offered, proposed, or handed back to the coordination)."""
    if settled:
        session.execute(delete(AutopilotNote).where(AutopilotNote.intervention_id.in_(settled))
                        .execution_options(synchronize_session=False))
    if not reasons:
        return
    current = dict(session.execute(select(AutopilotNote.intervention_id, AutopilotNote.reason)
                                   .where(AutopilotNote.intervention_id.in_(list(reasons)))).all())
    for intervention_id, reason in sorted(reasons.items()):
        if current.get(intervention_id) == reason:
            continue
        if intervention_id in current:
            session.execute(update(AutopilotNote).where(AutopilotNote.intervention_id == intervention_id)
                            .values(reason=reason, noted_at=now).execution_options(synchronize_session=False))
        else:
            session.add(AutopilotNote(intervention_id=intervention_id, reason=reason, noted_at=now))
        intervention = interventions[intervention_id]
        record_event(session, intervention.request, None, "autopilot_unserved", now,
                     f"{intervention.group_label} — {reason}", intervention)
    session.flush()


def notes_for_request(session: Session, request_id: int) -> dict[int, str]:
    """Why the autopilot could not serve each session of a request still waiting for a trainer (its page says it)."""
    return dict(session.execute(
        select(AutopilotNote.intervention_id, AutopilotNote.reason)
        .join(Intervention, Intervention.id == AutopilotNote.intervention_id)
        .where(Intervention.request_id == request_id, Intervention.status.in_(WAITING_FOR_TRAINERS))).all())


# -- the coordinator's home --------------------------------------------------------------------------


def note_visit(session: Session, user: User, now: datetime) -> datetime:
    """Records a look at the home page; returns the start of "since your last visit"."""
    session.execute(insert_for(session)(HomeVisit)
                    .values(user_id=user.id, since=now - FIRST_LOOK_BACK, seen_at=now)
                    .on_conflict_do_nothing(index_elements=["user_id"]))
    visit = session.get(HomeVisit, user.id, populate_existing=True)
    if now - visit.seen_at > VISIT_GAP:
        visit.since = visit.seen_at
    visit.seen_at = max(visit.seen_at, now)
    session.flush()
    return visit.since


@dataclass
class HomeSummary:
    since: datetime
    offers_sent: int
    confirmed: int
    unserved: list[tuple[Intervention, str]]
    unserved_count: int
    proposals: list[AutopilotProposal]


def home_summary(session: Session, user: User, since: datetime, rows, limit: int = 20) -> HomeSummary:
    """What the autopilot did in the person's scopes since `since` and what needs them. `rows` is the sessions
    policy's condition for the person (SESSIONS.rows)."""
    offers_sent = session.scalar(
        select(func.count(Assignment.id)).join(Intervention, Intervention.id == Assignment.intervention_id)
        .where(rows, Assignment.offered_by_id.is_(None), Assignment.offered_at > since))
    by_relais = select(Assignment.id).where(Assignment.intervention_id == Intervention.id,
                                            Assignment.offered_by_id.is_(None)).exists()
    confirmed = session.scalar(select(func.count(Intervention.id)).where(
        rows, Intervention.confirmed_at > since, Intervention.status == InterventionStatus.CONFIRMED, by_relais))
    waiting = (select(Intervention, AutopilotNote.reason).join(AutopilotNote,
                                                                AutopilotNote.intervention_id == Intervention.id)
               .where(rows, Intervention.status.in_(WAITING_FOR_TRAINERS)))
    # The soonest first: a session's time once someone was asked, else its request's first day possible.
    first_day = (select(func.min(RequestWindow.start_date)).where(RequestWindow.request_id == Intervention.request_id)
                 .scalar_subquery())
    unserved = [(i, reason) for i, reason in session.execute(
        waiting.options(selectinload(Intervention.request).options(
            selectinload(InterventionRequest.establishment), selectinload(InterventionRequest.windows)))
        .order_by(func.coalesce(func.date(Intervention.starts_at), first_day), Intervention.id).limit(limit)).all()]
    count = (len(unserved) if len(unserved) < limit else
             session.scalar(waiting.with_only_columns(func.count(Intervention.id))))
    return HomeSummary(since, offers_sent or 0, confirmed or 0, unserved, count, proposals_for(session, user))


def scopes_of(session: Session, user: User, departement_code: str | None = None) -> list[Scope]:
    """The scopes (département, force) a person chooses the mode of: their own, each force of a scope of both;
    for an admin, both forces of the département asked."""
    if user.role.value == "admin":
        return [(departement_code, force) for force in Force] if departement_code else []
    found = []
    for scope in user.scopes:
        for force in ([scope.force] if scope.force is not None else list(Force)):
            found.append((scope.departement_code, force))
    return sorted(set(found), key=lambda s: (s[0], s[1].value))

