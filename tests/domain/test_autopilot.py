"""The autopilot (issue #20, continuous planning): each scope's mode, the rolling horizon, live offers never
withdrawn, the daily cap of offers per trainer, the reasons of unserved sessions, declines planned again, and two
ticks at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update

from app.domain import autopilot, offers
from app.domain.autopilot import AutopilotSettings, plan_scope, send_proposal, set_mode
from app.domain.roster import add_exception
from app.extensions import db
from app.jobs import autopilot_tick
from app.models import (
    Assignment,
    AssignmentStatus,
    AutopilotMode,
    AutopilotNote,
    AutopilotProposal,
    AvailabilityException,
    Departement,
    ExceptionKind,
    Force,
    Intervention,
    InterventionStatus,
    OutgoingMessage,
    RequestEvent,
    Topic,
)
from app.unit_of_work import run
from tests.factories import (
    make_assigned_session,
    make_coordinator,
    make_establishment,
    make_qualified_trainer,
    make_request,
    make_trainer,
)

SETTINGS = AutopilotSettings(horizon_weeks=10, offers_per_day=3)
SCOPE = ("69", Force.POLICE)


def sessions(count: int = 1, *, start: date = date(2027, 1, 11), group_count: int = 1, **extra) -> list[Intervention]:
    """Requests accepted in the Rhône (police), one session each by default, windows of a week of mornings."""
    found = []
    for _ in range(count):
        establishment = make_establishment("69", force=Force.POLICE)
        request = make_request(establishment, status="in_planning", start=start, group_count=group_count, **extra)
        found += request.interventions
    db.session.flush()
    return found


def automatic(coordinator=None) -> None:
    set_mode(db.session, "69", Force.POLICE, AutopilotMode.AUTOMATIC, coordinator or make_coordinator(),
             datetime(2026, 11, 30, tzinfo=UTC))


def tick(now, settings=SETTINGS):
    """The scope's turn of a tick, as `autopilot_tick` takes it (what changed read from the audit trail first)."""
    changes = autopilot.scope_changes(db.session, [SCOPE])
    return run(lambda: plan_scope(db.session, SCOPE, now, settings, changes)).value


def calls_of(monkeypatch, name: str) -> list[int]:
    """One item per call of `autopilot.<name>` (which still runs)."""
    calls: list[int] = []
    original = getattr(autopilot, name)
    monkeypatch.setattr(autopilot, name, lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def live_offers(intervention=None) -> list[Assignment]:
    query = select(Assignment).where(Assignment.status.in_((AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED)))
    if intervention is not None:
        query = query.where(Assignment.intervention_id == intervention.id)
    return list(db.session.scalars(query.order_by(Assignment.id)))


def test_automatic_mode_sends_offers_by_relais_with_their_emails(app, clock):
    now = clock.now()
    trainer = make_qualified_trainer()
    automatic()
    [session_] = sessions()
    db.session.commit()
    outcome = tick(now)
    assert outcome.mode is AutopilotMode.AUTOMATIC and outcome.offers == 1
    [offer] = live_offers(session_)
    assert offer.trainer_id == trainer.id and offer.offered_by_id is None and offer.status is AssignmentStatus.OFFERED
    event = db.session.scalar(select(RequestEvent).where(RequestEvent.kind == "offered"))
    assert event.actor_id is None  # « Relais » in the history
    mail = db.session.scalar(select(OutgoingMessage).where(OutgoingMessage.recipient == trainer.user.email))
    assert mail is not None


def test_manual_mode_does_nothing(app, clock):
    make_qualified_trainer()
    set_mode(db.session, "69", Force.POLICE, AutopilotMode.MANUAL, make_coordinator(), clock.now())
    sessions()
    db.session.commit()
    assert autopilot.scopes_to_plan(db.session) == []
    outcome = tick(clock.now())
    assert outcome.mode is AutopilotMode.MANUAL and outcome.offers == 0
    assert live_offers() == [] and db.session.scalar(select(func.count(AutopilotProposal.id))) == 0


def test_proposed_mode_by_default_prepares_a_proposal_sent_in_one_click(app, clock):
    now = clock.now()
    trainer = make_qualified_trainer()
    coordinator = make_coordinator()
    [session_] = sessions()
    db.session.commit()
    assert autopilot.mode_of(db.session, "69", Force.POLICE) is AutopilotMode.PROPOSED
    outcome = tick(now)
    assert outcome.mode is AutopilotMode.PROPOSED and outcome.offers == 1
    assert live_offers() == []  # nothing sent yet
    proposal = db.session.scalar(select(AutopilotProposal))
    [item] = proposal.items
    assert (item.intervention_id, item.trainer_id) == (session_.id, trainer.id)
    # A second tick with nothing changed keeps the proposal as it was prepared.
    tick(now + timedelta(minutes=5))
    db.session.expire_all()
    assert db.session.scalar(select(AutopilotProposal)).prepared_at == now
    result = run(lambda: send_proposal(db.session, proposal.id, proposal.fingerprint, coordinator,
                                       now + timedelta(minutes=6), SETTINGS)).value
    assert (result.offers, result.sessions, result.skipped) == (1, 1, {})
    [offer] = live_offers(session_)
    assert offer.offered_by_id == coordinator.id and offer.trainer_id == trainer.id
    assert db.session.scalar(select(func.count(AutopilotProposal.id))) == 0
    # The same click again finds nothing to send.
    again = run(lambda: send_proposal(db.session, proposal.id, proposal.fingerprint, coordinator, now, SETTINGS))
    assert again.refusal.code == "proposal_changed"


def test_a_session_beyond_the_horizon_is_not_planned(app, clock):
    make_qualified_trainer()
    automatic()
    near, = sessions(start=date(2026, 12, 7))
    far, = sessions(start=date(2027, 1, 11))  # six weeks from now
    db.session.commit()
    tick(clock.now(), AutopilotSettings(horizon_weeks=2, offers_per_day=3))
    assert [a.intervention_id for a in live_offers()] == [near.id]
    assert db.session.get(AutopilotNote, far.id) is None  # not unserved: not yet planned
    tick(clock.now() + timedelta(minutes=1), AutopilotSettings(horizon_weeks=10, offers_per_day=3))
    assert sorted(a.intervention_id for a in live_offers()) == sorted([near.id, far.id])


def test_live_offers_and_confirmed_sessions_are_never_touched(app, clock):
    now = clock.now()
    first, second = make_qualified_trainer(), make_qualified_trainer(unit_km=5)
    coordinator = make_coordinator()
    offered, confirmed, to_plan = sessions(3)
    # A coordinator offered one session to the second trainer (the planner would rather pick the first, closer),
    # and gave another directly to the first.
    offer = offers.make_offer(db.session, offered, second, datetime(2027, 1, 12, 8, tzinfo=UTC),
                              datetime(2027, 1, 12, 9, tzinfo=UTC), coordinator, now, SETTINGS.offers)
    offers.assign_directly(db.session, confirmed, first, datetime(2027, 1, 13, 8, tzinfo=UTC),
                           datetime(2027, 1, 13, 9, tzinfo=UTC), coordinator, now)
    db.session.commit()
    automatic(coordinator)
    db.session.commit()
    outcome = tick(now)
    assert outcome.sessions == 1
    db.session.expire_all()
    live = live_offers()
    assert [(a.intervention_id, a.trainer_id, a.status) for a in live if a.intervention_id != to_plan.id] == [
        (offered.id, second.id, AssignmentStatus.OFFERED), (confirmed.id, first.id, AssignmentStatus.ACCEPTED)]
    assert live[0].id == offer.notices[0].assignment.id
    assert db.session.get(Intervention, confirmed.id).starts_at == datetime(2027, 1, 13, 8, tzinfo=UTC)
    assert db.session.get(Intervention, offered.id).starts_at == datetime(2027, 1, 12, 8, tzinfo=UTC)
    assert [a.intervention_id for a in live_offers(to_plan)] == [to_plan.id]


def test_no_trainer_receives_more_offers_a_day_than_the_cap(app, clock):
    now = clock.now()
    trainer = make_qualified_trainer()
    automatic()
    planned = sessions(3)
    db.session.commit()
    outcome = tick(now, AutopilotSettings(horizon_weeks=10, offers_per_day=2))
    assert outcome.offers == 2
    assert len([a for a in live_offers() if a.trainer_id == trainer.id]) == 2
    [left_out] = [s for s in planned if not live_offers(s)]
    assert db.session.get(AutopilotNote, left_out.id).reason == autopilot.DAILY_CAP
    # The same day, nothing more, whoever plans; the next day, the third one.
    assert tick(now + timedelta(hours=2), AutopilotSettings(horizon_weeks=10, offers_per_day=2)).offers == 0
    assert tick(now + timedelta(days=1), AutopilotSettings(horizon_weeks=10, offers_per_day=2)).offers == 1
    db.session.expire_all()
    assert db.session.get(AutopilotNote, left_out.id) is None
    assert [a.trainer_id for a in live_offers(left_out)] == [trainer.id]


def test_the_reason_of_each_unserved_session_is_kept_with_a_history_line_by_relais(app, clock):
    now = clock.now()
    automatic()
    past, = sessions(start=date(2026, 11, 2))
    nobody, = sessions(topics=("alcool",))
    busy_week, = sessions(start=date(2027, 1, 18))
    trainer = make_qualified_trainer()
    trainer.max_sessions_per_week = 1
    from tests.factories import make_assigned_session

    make_assigned_session(trainer, datetime(2027, 1, 22, 13, tzinfo=UTC))
    db.session.commit()
    tick(now)
    reasons = {note.intervention_id: note.reason for note in db.session.scalars(select(AutopilotNote))}
    assert reasons == {past.id: autopilot.NO_START, nobody.id: autopilot.NO_ELIGIBLE,
                       busy_week.id: autopilot.AT_LIMITS}
    events = db.session.scalars(select(RequestEvent).where(RequestEvent.kind == "autopilot_unserved")).all()
    assert len(events) == 3 and all(e.actor_id is None for e in events)
    tick(now + timedelta(minutes=10))
    assert db.session.scalar(select(func.count(RequestEvent.id)).where(RequestEvent.kind == "autopilot_unserved")) == 3


def test_in_automatic_mode_a_decline_is_planned_again_by_the_next_tick(app, clock):
    now = clock.now()
    first, second = make_qualified_trainer(), make_qualified_trainer(unit_km=5)
    automatic()
    [session_] = sessions()
    db.session.commit()
    tick(now)
    [offer] = live_offers(session_)
    assert offer.trainer_id == first.id
    run(lambda: offers.decline_offer(db.session, offer, "Indisponible", now + timedelta(hours=1), SETTINGS.offers))
    db.session.expire_all()
    assert live_offers(session_) == []  # no cascade: the autopilot takes over
    assert db.session.get(Intervention, session_.id).status is InterventionStatus.TO_SCHEDULE
    tick(now + timedelta(hours=1, minutes=5))
    [again] = live_offers(session_)
    assert again.trainer_id == second.id and again.offered_by_id is None


def test_when_the_trainers_who_could_come_turned_it_down_the_reason_says_so(app, clock):
    """Not « no trainer meets the rules », nor only « taken »: the coordination must know to look elsewhere."""
    now = clock.now()
    make_qualified_trainer()
    other = make_qualified_trainer(unit_km=5)
    other.max_sessions_per_week = 1
    automatic()
    [session_] = sessions()
    db.session.commit()
    tick(now)
    [offer] = live_offers(session_)
    assert offer.trainer_id != other.id
    # The other trainer meeting the rules is taken that week.
    make_assigned_session(other, datetime(2027, 1, 15, 13, tzinfo=UTC))
    db.session.commit()
    run(lambda: offers.decline_offer(db.session, offer, "Indisponible", now + timedelta(hours=1), SETTINGS.offers))
    tick(now + timedelta(hours=1, minutes=5))
    assert live_offers(session_) == []
    assert db.session.get(AutopilotNote, session_.id).reason == autopilot.TURNED_DOWN


def test_in_automatic_mode_an_expired_offer_is_planned_again_in_the_same_tick(app, clock):
    now = clock.now()
    first, second = make_qualified_trainer(), make_qualified_trainer(unit_km=5)
    automatic()
    [session_] = sessions()
    db.session.commit()
    tick(now)
    from app.jobs import run_periodic_jobs

    run_periodic_jobs(db.session, now + timedelta(days=4))
    db.session.expire_all()
    statuses = {a.trainer_id: a.status for a in db.session.get(Intervention, session_.id).assignments}
    assert statuses == {first.id: AssignmentStatus.EXPIRED, second.id: AssignmentStatus.OFFERED}


def test_two_ticks_at_once_send_no_offer_twice(app, clock):
    from tests.domain.test_offer_races import race

    now = clock.now()
    for _ in range(3):
        make_qualified_trainer()
    automatic()
    planned = sessions(4)
    db.session.commit()

    def ticking(session):
        autopilot_tick(session, now)

    outcomes = race(app, ticking, ticking)
    assert outcomes == ["ok", "ok"], outcomes
    db.session.expire_all()
    per_session = db.session.execute(select(Assignment.intervention_id, func.count(Assignment.id))
                                     .group_by(Assignment.intervention_id)).all()
    assert sorted(per_session) == sorted((s.id, 1) for s in planned)


def test_a_plan_made_before_a_coordinator_offered_the_session_sends_nothing_for_it(app, clock):
    """What a tick planned while a coordinator (or another tick) offered the session meanwhile is skipped, never a
    second live offer: the check is made under the session's lock, right before the offers."""
    from app.domain.planning import PlannedAssignment

    now = clock.now()
    first, second = make_qualified_trainer(), make_qualified_trainer(unit_km=5)
    coordinator = make_coordinator()
    [session_] = sessions()
    start = datetime(2027, 1, 11, 8, tzinfo=UTC)
    offers.make_offer(db.session, session_, second, start, start + timedelta(hours=1), coordinator, now,
                      SETTINGS.offers)
    db.session.commit()
    planned = {session_.id: [PlannedAssignment(session_.id, first.id, start, 0.0)]}
    sent = run(lambda: autopilot.send_planned(db.session, {}, {}, planned, None, now, SETTINGS)).value
    assert sent[:3] == (0, 0, {session_.id: "session_changed"})
    assert [a.trainer_id for a in live_offers(session_)] == [second.id]


def test_a_pair_is_offered_whole_or_not_at_all(app, clock):
    from app.domain.planning import PlannedAssignment

    now = clock.now()
    first, second = make_qualified_trainer(), make_qualified_trainer(unit_km=5)
    [pair] = sessions()
    pair.trainers_needed = 2
    start = datetime(2027, 1, 11, 8, tzinfo=UTC)
    # The second trainer is booked elsewhere at that time: their offer is refused, so the first one is not kept.
    from tests.factories import make_assigned_session

    make_assigned_session(second, start)
    db.session.commit()
    planned = {pair.id: [PlannedAssignment(pair.id, first.id, start, 0.0),
                         PlannedAssignment(pair.id, second.id, start, 0.0)]}
    sent = run(lambda: autopilot.send_planned(db.session, {}, {}, planned, None, now, SETTINGS)).value
    assert sent[:3] == (0, 0, {pair.id: "trainer_busy"})
    db.session.expire_all()
    assert live_offers(pair) == []
    assert db.session.get(Intervention, pair.id).status is InterventionStatus.TO_SCHEDULE


def test_a_scope_another_tick_is_planning_is_skipped_on_postgresql(app, clock):
    """The first tick holds the scope's row; on PostgreSQL the second skips the scope at once (SKIP LOCKED) and
    sends nothing; SQLite has one writer at a time: the second waits for the first, then finds nothing to do."""
    import threading

    now = clock.now()
    make_qualified_trainer()
    automatic()
    [session_] = sessions()
    db.session.commit()
    claimed, second_done = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def first() -> None:
        with app.app_context():
            try:
                outcomes["first"] = plan_scope(db.session, SCOPE, now, SETTINGS)
                claimed.set()
                second_done.wait(timeout=2)  # still holding the scope's row
                db.session.commit()
            finally:
                claimed.set()
                db.session.remove()

    def second() -> None:
        with app.app_context():
            try:
                claimed.wait(timeout=30)
                outcomes["second"] = plan_scope(db.session, SCOPE, now, SETTINGS)
                db.session.commit()
            except Exception as error:  # reported by the assertions below
                outcomes["second"] = error
                db.session.rollback()
            finally:
                second_done.set()
                db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes["first"].offers == 1
    if db.engine.dialect.name == "postgresql":
        assert outcomes["second"] is None
    else:
        assert outcomes["second"].offers == 0
    db.session.expire_all()
    assert len(live_offers(session_)) == 1


def test_a_proposal_is_prepared_again_when_the_plan_changes(app, clock):
    now = clock.now()
    make_qualified_trainer()
    sessions()
    db.session.commit()
    tick(now)
    first = db.session.scalar(select(AutopilotProposal))
    fingerprint = first.fingerprint
    sessions()  # a request accepted meanwhile
    db.session.commit()
    tick(now + timedelta(hours=1))
    db.session.expire_all()
    proposal = db.session.scalar(select(AutopilotProposal))
    assert len(proposal.items) == 2 and proposal.fingerprint != fingerprint
    assert proposal.prepared_at == now + timedelta(hours=1)
    # Shown before it was prepared again: the click sends nothing and says so.
    coordinator = make_coordinator()
    db.session.commit()
    stale = run(lambda: send_proposal(db.session, proposal.id, fingerprint, coordinator, now, SETTINGS))
    assert stale.refusal.code == "proposal_changed" and live_offers() == []


def test_a_proposal_sent_the_next_day_keeps_to_the_daily_cap(app, clock):
    now = clock.now()
    trainer = make_qualified_trainer()
    coordinator = make_coordinator()
    planned = sessions(2)
    db.session.commit()
    tick(now)
    proposal = db.session.scalar(select(AutopilotProposal))
    assert len(proposal.items) == 2
    # Meanwhile the trainer received two offers from elsewhere today (cap: 3).
    for day, other in enumerate(sessions(2, start=date(2027, 2, 1))):
        start = datetime(2027, 2, 1, 8, tzinfo=UTC) + timedelta(days=day)
        offers.make_offer(db.session, other, trainer, start, start + timedelta(hours=1), coordinator, now,
                          SETTINGS.offers)
    db.session.commit()
    result = run(lambda: send_proposal(db.session, proposal.id, proposal.fingerprint, coordinator,
                                       now + timedelta(hours=1), SETTINGS)).value
    assert result.offers == 1 and list(result.skipped.values()) == ["offer_cap"]
    assert sum(1 for s in planned if live_offers(s)) == 1


def test_a_session_handed_back_to_the_coordination_is_left_to_it(app, clock):
    now = clock.now()
    automatic()
    [session_] = sessions(topics=("alcool",))
    db.session.commit()
    tick(now)
    assert db.session.get(AutopilotNote, session_.id).reason == autopilot.NO_ELIGIBLE
    session_.attention_reason, session_.attention_at = "3 proposition(s) déclinée(s) ou expirée(s)", now
    newcomer = make_qualified_trainer()
    newcomer.topics.append(db.session.get(Topic, "alcool"))
    db.session.commit()
    outcome = tick(now + timedelta(minutes=5))
    assert outcome.considered == 0 and live_offers(session_) == []
    db.session.expire_all()
    assert db.session.get(AutopilotNote, session_.id) is None  # its flag says why, not Relais's older reason


def test_in_automatic_mode_a_pair_short_of_a_trainer_keeps_its_time_and_gets_another(app, clock):
    now = clock.now()
    trainers = [make_qualified_trainer(unit_km=km) for km in (0, 2, 4)]
    automatic()
    [pair] = sessions()
    pair.trainers_needed = 2
    db.session.commit()
    tick(now)
    first, second = live_offers(pair)
    assert first.intervention.starts_at is not None
    start = db.session.get(Intervention, pair.id).starts_at
    run(lambda: offers.decline_offer(db.session, first, "Indisponible", now + timedelta(hours=1), SETTINGS.offers))
    db.session.expire_all()
    assert len(live_offers(pair)) == 1  # no cascade: the autopilot takes over
    tick(now + timedelta(hours=2))
    db.session.expire_all()
    live = live_offers(pair)
    assert len(live) == 2 and db.session.get(Intervention, pair.id).starts_at == start
    assert {a.trainer_id for a in live} == {t.id for t in trainers} - {first.trainer_id}


def test_a_pair_nobody_else_can_complete_waits_on_the_coordination_home_with_its_reason(app, clock):
    now = clock.now()
    coordinator = make_coordinator()
    make_qualified_trainer(), make_qualified_trainer(unit_km=2)
    automatic(coordinator)
    [pair] = sessions()
    pair.trainers_needed = 2
    db.session.commit()
    tick(now)
    first, _second = live_offers(pair)
    run(lambda: offers.decline_offer(db.session, first, "Indisponible", now + timedelta(hours=1), SETTINGS.offers))
    tick(now + timedelta(hours=2))
    db.session.expire_all()
    assert db.session.get(Intervention, pair.id).status is InterventionStatus.OFFERED
    assert db.session.get(AutopilotNote, pair.id).reason == autopilot.NO_SECOND
    summary = autopilot.home_summary(db.session, coordinator, now, Intervention.id.is_not(None))
    assert [(i.id, reason) for i, reason in summary.unserved] == [(pair.id, autopilot.NO_SECOND)]
    assert autopilot.notes_for_request(db.session, pair.request_id) == {pair.id: autopilot.NO_SECOND}
    # A newcomer can come at that time: offered, and the note goes.
    make_qualified_trainer(unit_km=4)
    db.session.commit()
    tick(now + timedelta(hours=3))
    db.session.expire_all()
    assert len(live_offers(pair)) == 2
    assert db.session.get(AutopilotNote, pair.id) is None


def test_a_scope_where_nothing_changed_is_not_planned_again_until_something_does(app, clock, monkeypatch):
    """The national tick replans only the scopes whose inputs changed: the solver is not called for the others."""
    now = clock.now()
    trainer = make_qualified_trainer()
    make_coordinator()
    [first] = sessions()
    db.session.commit()
    solved = calls_of(monkeypatch, "_plan_within_cap")
    assert not tick(now).skipped_unchanged and len(solved) == 1
    later = tick(now + timedelta(hours=3))
    assert later.skipped_unchanged and len(solved) == 1
    assert db.session.scalar(select(AutopilotProposal)).prepared_at == now  # the proposal stays as prepared
    trainer.languages = "français, anglais"  # read again (a trainer of the scope changed), the same inputs
    db.session.commit()
    reread = tick(now + timedelta(hours=3, minutes=30))
    assert reread.skipped_unchanged and not reread.skipped_unread and len(solved) == 1
    make_qualified_trainer(unit_km=5)  # a new trainer in the territory: new options
    db.session.commit()
    assert not tick(now + timedelta(hours=4)).skipped_unchanged and len(solved) == 2
    # A new day moves the horizon and the daily cap: planned again, even with nothing else new.
    assert not tick(now + timedelta(days=1)).skipped_unchanged
    assert tick(now + timedelta(days=1, hours=1)).skipped_unchanged
    # A new mode too.
    automatic()
    db.session.commit()
    outcome = tick(now + timedelta(days=1, hours=2))
    assert not outcome.skipped_unchanged and outcome.offers == 1 and len(live_offers(first)) == 1


def test_a_quiet_tick_does_not_read_the_scopes_no_new_entry_of_the_audit_trail_concerns(app, clock, monkeypatch):
    """The audit trail says which scopes a change may concern (app.domain.scope_changes): the others are not loaded
    again the same day; a change to a session, a trainer's absence, or the load of a trainer shared with another
    département makes the scope read again."""
    now = clock.now()
    trainer = make_qualified_trainer()
    make_coordinator()
    sessions()
    db.session.commit()
    loaded = calls_of(monkeypatch, "load_planning_problem")
    assert not tick(now).skipped_unread and len(loaded) == 1
    quiet = tick(now + timedelta(hours=1))
    assert quiet.skipped_unread and quiet.skipped_unchanged and len(loaded) == 1

    # Elsewhere: a request accepted in the Bouches-du-Rhône, a trainer of the Ain off for a week.
    make_request(make_establishment("13", force=Force.POLICE), status="in_planning", start=date(2027, 1, 11))
    elsewhere = make_trainer("01")
    db.session.commit()
    leave = (ExceptionKind.UNAVAILABLE, date(2027, 1, 11), None, date(2027, 1, 15), None, "Congés", "Europe/Paris", now)
    run(lambda: add_exception(elsewhere, *leave))
    assert tick(now + timedelta(hours=2)).skipped_unread and len(loaded) == 1

    # Its own trainer off that week: read again (once).
    run(lambda: add_exception(trainer, *leave))
    assert not tick(now + timedelta(hours=3)).skipped_unread and len(loaded) == 2
    assert tick(now + timedelta(hours=4)).skipped_unread and len(loaded) == 2

    # A trainer it shares with the Ain, offered a session there: their load here changed too.
    shared = make_qualified_trainer()
    shared.departements.append(db.session.get(Departement, "01"))
    db.session.commit()
    assert not tick(now + timedelta(hours=5)).skipped_unread and len(loaded) == 3
    assert tick(now + timedelta(hours=6)).skipped_unread and len(loaded) == 3
    make_assigned_session(shared, datetime(2027, 1, 12, 8, tzinfo=UTC), status="offered",
                          establishment=make_establishment("01"))
    db.session.commit()
    assert not tick(now + timedelta(hours=7)).skipped_unread and len(loaded) == 4

    # A new day moves the horizon: read again, whatever the trail says.
    assert not tick(now + timedelta(days=1)).skipped_unread and len(loaded) == 5
    assert tick(now + timedelta(days=1, hours=1)).skipped_unread and len(loaded) == 5


def test_in_automatic_mode_a_quiet_tick_does_not_look_for_pairs_to_top_up(app, clock, monkeypatch):
    """The top-up reads what the planner does: a scope no new entry concerns was topped up by the tick that last
    read it, and nothing was written since. A scope read again is topped up."""
    now = clock.now()
    make_qualified_trainer(), make_qualified_trainer(unit_km=2)
    coordinator = make_coordinator()
    automatic(coordinator)
    sessions()
    db.session.commit()
    topped = calls_of(monkeypatch, "_top_up")
    assert not tick(now).skipped_unread and len(topped) == 1
    assert not tick(now + timedelta(minutes=10)).skipped_unread and len(topped) == 2  # reads the offers it sent
    assert tick(now + timedelta(minutes=20)).skipped_unread and len(topped) == 2
    assert tick(now + timedelta(minutes=30)).skipped_unread and len(topped) == 2


def test_a_change_whose_scopes_the_trail_cannot_tell_concerns_every_scope(app, clock):
    """A statement over many rows names none of them: every scope is read again. A change the planner never reads
    (a report, an account's name) concerns none."""
    from app.domain.scope_changes import last_entry_id, scope_changes_after

    trainer = make_qualified_trainer()
    db.session.commit()
    mark = last_entry_id(db.session)
    trainer.user.full_name = "Un autre nom"
    db.session.commit()
    changes = scope_changes_after(db.session, mark)
    assert not changes.every_scope and not changes.since(SCOPE, mark)
    trainer.max_distance_km = 30
    db.session.commit()
    assert scope_changes_after(db.session, mark).since(SCOPE, mark)
    assert not scope_changes_after(db.session, mark).since(("13", Force.POLICE), mark)
    elsewhere = make_trainer("13")
    elsewhere.exceptions.append(AvailabilityException(kind=ExceptionKind.UNAVAILABLE,
                                                      starts_at=datetime(2027, 1, 4, tzinfo=UTC),
                                                      ends_at=datetime(2027, 1, 5, tzinfo=UTC)))
    db.session.commit()
    mark = last_entry_id(db.session)
    db.session.execute(update(AvailabilityException).values(reason="Formation continue"))  # no WHERE: which rows?
    db.session.commit()
    changes = scope_changes_after(db.session, mark)
    assert changes.every_scope and changes.since(("13", Force.POLICE), mark) and changes.since(SCOPE, mark)
