"""Offers to trainers and their answers: offer, accept, decline, expire, cascade, assign, withdraw.

Races are settled by the database, never by a read-then-write in Python:
- a session's places are a counter (`Intervention.accepted_count`) raised by a conditional UPDATE
  that only matches while a place is left, and bounded by a CHECK constraint;
- a trainer's bookings are serialised by an UPDATE of their row (`Trainer.bookings_revision`): the
  row lock makes a second acceptance wait, and the overlap check that follows, a new statement, sees
  the first one once committed;
- a trainer holds at most one live offer per session (a partial unique index).
Every step that fails raises `Refused` with a code (app.domain.refusals) said to the person in French;
the caller rolls back. `make_offer` writes nothing that matters before its checks pass, so that a
plan can skip a session that changed meanwhile and go on in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session, joinedload

from app.domain.availability import BusyPeriod, availability_bounds, load_trainer_sessions, travel_minutes_for
from app.domain.changes import CalendarNotice, Change, Notice, record_event
from app.domain.keyset import cut
from app.domain.lifecycle import recompute_request_status
from app.domain.locks import lock_sessions
from app.domain.policies import coordinators_covering
from app.domain.refusals import Refused
from app.domain.vocabulary import ATTENTION_NO_CANDIDATE, ATTENTION_OFFERS_EXHAUSTED, SESSION_FILLED, stored_text
from app.formatting import moment_text
from app.models import (
    Assignment,
    AssignmentStatus,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    Trainer,
    User,
)

LIVE = (AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED)
UNANSWERED = (AssignmentStatus.DECLINED, AssignmentStatus.EXPIRED)
STAFFABLE = (InterventionStatus.TO_SCHEDULE, InterventionStatus.OFFERED)
# However close the session, a trainer has at least this long to answer.
MIN_ANSWER_TIME = timedelta(hours=2)


@dataclass(frozen=True)
class OfferSettings:
    expiry: timedelta = timedelta(days=3)
    # Declined or expired offers after which the session goes back to the coordinator, flagged.
    max_tries: int = 3

    @classmethod
    def from_config(cls, config) -> OfferSettings:
        return cls(expiry=timedelta(days=config["RELAIS_OFFER_EXPIRY_DAYS"]),
                   max_tries=config["RELAIS_OFFER_MAX_TRIES"])


def offer_expiry(now: datetime, starts_at: datetime, settings: OfferSettings) -> datetime:
    """The configured delay, but answered a day before the session when it is close."""
    return max(min(now + settings.expiry, starts_at - timedelta(days=1)), now + MIN_ANSWER_TIME)


# -- the database locks ------------------------------------------------------------------------------


def _lock_staffable(session: Session, intervention_id: int, now: datetime) -> None:
    """Locks the session's row while it can still be staffed (a harmless write: the time of change)."""
    result = session.execute(
        update(Intervention)
        .where(Intervention.id == intervention_id, Intervention.status.in_(STAFFABLE))
        .values(updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Refused("session_changed")


def _take_place(session: Session, intervention_id: int, now: datetime) -> None:
    """Raises the staffing counter if a place is left; at most one of two racing trainers gets it."""
    result = session.execute(
        update(Intervention)
        .where(Intervention.id == intervention_id, Intervention.status.in_(STAFFABLE),
               Intervention.accepted_count < Intervention.trainers_needed)
        .values(accepted_count=Intervention.accepted_count + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        status = session.scalar(select(Intervention.status).where(Intervention.id == intervention_id))
        raise Refused("session_full" if status in STAFFABLE else "session_changed")


def _book_trainer(session: Session, trainer_id: int, intervention: Intervention, distance_km: float | None) -> None:
    """Serialises the trainer's bookings, then refuses a collision with a session they already accepted."""
    _lock_trainer(session, trainer_id)
    if _collides(session, trainer_id, intervention, intervention.starts_at, intervention.ends_at, distance_km,
                 (AssignmentStatus.ACCEPTED,)):
        raise Refused("trainer_busy")


def _lock_trainer(session: Session, trainer_id: int) -> None:
    """The row lock makes a concurrent booking of the same trainer wait until this one commits."""
    session.execute(update(Trainer).where(Trainer.id == trainer_id)
                    .values(bookings_revision=Trainer.bookings_revision + 1)
                    .execution_options(synchronize_session=False))


def _collides(session: Session, trainer_id: int, intervention: Intervention, starts_at: datetime, ends_at: datetime,
              distance_km: float | None, statuses: tuple[AssignmentStatus, ...]) -> bool:
    """Whether the trainer holds (assignments in `statuses`) another session still to be given that they could not
    reach in time, or leave in time for this one: the travel between the two places counts (none between two
    classes of one school), as in app.domain.availability."""
    low, high = availability_bounds(starts_at, ends_at)
    place = session.scalar(select(InterventionRequest.establishment_id)
                           .where(InterventionRequest.id == intervention.request_id))
    travel = travel_minutes_for(distance_km)
    for row in load_trainer_sessions(session, [trainer_id], low, high):
        if (row.intervention_id == intervention.id or row.status not in statuses
                or row.intervention_status not in (*STAFFABLE, InterventionStatus.CONFIRMED)):
            continue
        busy = BusyPeriod(row.starts_at, row.ends_at, row.intervention_id, row.status is AssignmentStatus.ACCEPTED,
                          row.establishment_id, travel_minutes_for(row.distance_km))
        if busy.collides(starts_at, ends_at, travel, place):
            return True
    return False


def _check_time(session: Session, intervention: Intervention, starts_at: datetime) -> None:
    """Everyone on a session comes at the same time."""
    live_starts = session.execute(
        select(Intervention.starts_at, func.count(Assignment.id))
        .join(Assignment, Assignment.intervention_id == Intervention.id)
        .where(Intervention.id == intervention.id, Assignment.status.in_(LIVE))
        .group_by(Intervention.starts_at)).all()
    if any(start != starts_at for start, _ in live_starts):
        raise Refused("time_mismatch")


def _set_time(session: Session, intervention: Intervention, starts_at: datetime, ends_at: datetime) -> None:
    """Someone is asked or booked: the session has its time, and no longer needs the coordinator's attention."""
    session.execute(
        update(Intervention).where(Intervention.id == intervention.id)
        .values(status=InterventionStatus.OFFERED, starts_at=starts_at, ends_at=ends_at, attention_reason=None,
                attention_at=None)
        .execution_options(synchronize_session=False))


def _already_asked(session: Session, intervention_id: int, trainer_id: int) -> bool:
    return session.scalar(select(Assignment.id).where(
        Assignment.intervention_id == intervention_id, Assignment.trainer_id == trainer_id,
        Assignment.status.in_(LIVE)).limit(1)) is not None


# -- the coordinator's moves -------------------------------------------------------------------------


def offerable_starts(intervention: Intervention, starts: tuple[datetime, ...] | list[datetime]) -> list[datetime]:
    """The starts a trainer may be offered among those the ranking found for them: the session's own once someone
    is asked or booked (everyone on a session comes at the same time)."""
    if intervention.status is InterventionStatus.OFFERED:
        return [start for start in starts if start == intervention.starts_at]
    return list(starts)


def offer_to_candidate(session: Session, intervention: Intervention, trainer_id: int, starts_at: datetime | None,
                       actor: User, now: datetime, settings: OfferSettings, *, assign: bool = False) -> Change:
    """Offers the session (or, with `assign`, gives it) to a trainer the ranking still proposes, at one of the
    starts it proposes for them: the hard rules are checked again now, whatever the page showed before."""
    from app.domain.matching import rank_intervention  # matching imports this module's neighbours

    ranking = rank_intervention(session, intervention.id, now)
    candidate = next((c for c in ranking.candidates if c.trainer_id == trainer_id), None) if ranking else None
    if candidate is None:
        raise Refused("not_a_candidate")
    if starts_at is None or starts_at not in offerable_starts(intervention, candidate.all_starts):
        raise Refused("start_not_offered")
    trainer = session.get(Trainer, trainer_id)
    ends_at = starts_at + timedelta(minutes=intervention.request.duration_minutes)
    if assign:
        return assign_directly(session, intervention, trainer, starts_at, ends_at, actor, now, candidate.distance_km)
    return make_offer(session, intervention, trainer, starts_at, ends_at, actor, now, settings, candidate.distance_km)


def make_offer(session: Session, intervention: Intervention, trainer: Trainer, starts_at: datetime,
               ends_at: datetime, actor: User | None, now: datetime, settings: OfferSettings,
               distance_km: float | None = None) -> Change:
    """Offers the session, at that time, to the trainer; they get an e-mail and answer in Relais."""
    _lock_staffable(session, intervention.id, now)
    session.refresh(intervention)
    _check_time(session, intervention, starts_at)
    # More offers than places are allowed (the first to accept gets it), not more acceptances.
    if intervention.accepted_count >= intervention.trainers_needed:
        raise Refused("session_full")
    if _already_asked(session, intervention.id, trainer.id):
        raise Refused("already_asked")
    _lock_trainer(session, trainer.id)
    # Never two live offers (or an offer and a booking) the trainer could not both honour: from a plan, a
    # cascade or a coordinator, whatever was decided on what was read before.
    if _collides(session, trainer.id, intervention, starts_at, ends_at, distance_km, LIVE):
        raise Refused("trainer_busy")
    # The checks passed: from here on, the writes are the offer itself.
    _set_time(session, intervention, starts_at, ends_at)
    assignment = Assignment(intervention_id=intervention.id, trainer_id=trainer.id, status=AssignmentStatus.OFFERED,
                            offered_at=now, expires_at=offer_expiry(now, starts_at, settings),
                            offered_by_id=actor.id if actor else None, distance_km=distance_km)
    session.add(assignment)
    session.flush()
    session.refresh(intervention)
    request = intervention.request
    record_event(session, request, actor, "offered", now, f"{intervention.group_label} — {trainer.full_name}",
                 intervention)
    recompute_request_status(session, request, now)
    return Change([Notice(trainer.user, "offer", request, intervention, assignment=assignment)])


def assign_directly(session: Session, intervention: Intervention, trainer: Trainer, starts_at: datetime,
                    ends_at: datetime, actor: User, now: datetime, distance_km: float | None = None) -> Change:
    """A confirmed assignment without offer (the coordinator agreed with the trainer by other means)."""
    _take_place(session, intervention.id, now)
    session.refresh(intervention)
    _check_time(session, intervention, starts_at)
    if _already_asked(session, intervention.id, trainer.id):
        raise Refused("already_asked")
    _set_time(session, intervention, starts_at, ends_at)
    session.refresh(intervention)
    _book_trainer(session, trainer.id, intervention, distance_km)
    assignment = Assignment(intervention_id=intervention.id, trainer_id=trainer.id,
                            status=AssignmentStatus.ACCEPTED, offered_at=now, answered_at=now, accepted_at=now,
                            offered_by_id=actor.id, distance_km=distance_km)
    session.add(assignment)
    session.flush()
    request = intervention.request
    record_event(session, request, actor, "assigned", now, f"{intervention.group_label} — {trainer.full_name}",
                 intervention)
    change = _confirm_if_staffed(session, intervention, now)
    if not change.calendar:  # confirmed: the invitation tells them; else a plain notice does
        change.notices.insert(0, Notice(trainer.user, "assigned", request, intervention, assignment=assignment))
    recompute_request_status(session, request, now)
    return change


def has_begun(intervention: Intervention, now: datetime) -> bool:
    """Whether the session's time has come: from then on its trainers and its time stay as they were (the report
    says what happened)."""
    return intervention.starts_at is not None and intervention.starts_at <= now


def withdraw(session: Session, assignment: Assignment, actor: User, reason: str, now: datetime) -> Change:
    """Takes an offer or an accepted assignment back, before the session; the session needs a trainer again."""
    lock_sessions(session, [assignment.intervention_id])  # the session before its assignment (app.domain.locks)
    session.refresh(assignment)
    session.refresh(assignment.intervention)  # its time as the lock found it
    if has_begun(assignment.intervention, now):
        raise Refused("session_past")
    was_accepted = assignment.status is AssignmentStatus.ACCEPTED
    was_confirmed = assignment.intervention.status is InterventionStatus.CONFIRMED
    result = session.execute(
        update(Assignment).where(Assignment.id == assignment.id, Assignment.status == assignment.status,
                                 Assignment.status.in_(LIVE))
        .values(status=AssignmentStatus.WITHDRAWN, answered_at=now, decline_reason=reason)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Refused("offer_closed")
    intervention = assignment.intervention
    values: dict = {"updated_at": now}
    if was_accepted:
        values["accepted_count"] = Intervention.accepted_count - 1
        if intervention.status is InterventionStatus.CONFIRMED:
            # Calendars that showed the session confirmed must hear of the change (RFC 5545 SEQUENCE).
            values["status"] = InterventionStatus.OFFERED
            values["ical_sequence"] = Intervention.ical_sequence + 1
    result = session.execute(
        update(Intervention)
        .where(Intervention.id == intervention.id,
               Intervention.status.in_((*STAFFABLE, InterventionStatus.CONFIRMED)))
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Refused("session_changed")
    session.refresh(assignment)
    _release_if_unstaffed(session, intervention, now)
    request = intervention.request
    record_event(session, request, actor, "withdrawn", now,
                 f"{intervention.group_label} — {assignment.trainer.full_name} — {reason}", intervention)
    recompute_request_status(session, request, now)
    change = Change([Notice(assignment.trainer.user, "withdrawn", request, intervention, reason=reason,
                            assignment=assignment)])
    if was_accepted and was_confirmed:
        # The withdrawn trainer's calendar drops the event; the others see it tentative again, or,
        # with nobody left on it, the contact's calendar drops it too until it is confirmed again.
        remaining = _accepted_users(session, intervention)
        change.calendar.append(CalendarNotice(intervention, "CANCEL", (assignment.trainer.user,),
                                              contact=not remaining, reason=reason, removal=bool(remaining)))
        if remaining:
            change.calendar.append(CalendarNotice(intervention, "REQUEST", remaining, contact=True))
    return change


def _accepted_users(session: Session, intervention: Intervention) -> tuple[User, ...]:
    return tuple(session.scalars(
        select(User).join(Trainer, Trainer.user_id == User.id).join(Assignment, Assignment.trainer_id == Trainer.id)
        .where(Assignment.intervention_id == intervention.id, Assignment.status == AssignmentStatus.ACCEPTED)
        .order_by(Assignment.id)))


def _release_if_unstaffed(session: Session, intervention: Intervention, now: datetime) -> None:
    """With nobody left on it, the session is to schedule again and its time is free to choose.

    The old time is kept: a calendar cancellation still describes the event it removes."""
    session.execute(
        update(Intervention)
        .where(Intervention.id == intervention.id, Intervention.status == InterventionStatus.OFFERED,
               ~select(Assignment.id).where(Assignment.intervention_id == intervention.id,
                                            Assignment.status.in_(LIVE)).exists())
        .values(status=InterventionStatus.TO_SCHEDULE, updated_at=now)
        .execution_options(synchronize_session=False))
    session.refresh(intervention)


def _confirm_if_staffed(session: Session, intervention: Intervention, now: datetime) -> Change:
    """Every trainer needed has accepted: the session is confirmed, other offers are withdrawn."""
    result = session.execute(
        update(Intervention)
        .where(Intervention.id == intervention.id, Intervention.status.in_(STAFFABLE),
               Intervention.accepted_count == Intervention.trainers_needed)
        .values(status=InterventionStatus.CONFIRMED, updated_at=now, ical_sequence=Intervention.ical_sequence + 1,
                confirmed_at=func.coalesce(Intervention.confirmed_at, now))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return Change()
    leftovers = session.scalars(select(Assignment).where(Assignment.intervention_id == intervention.id,
                                                         Assignment.status == AssignmentStatus.OFFERED)).all()
    session.execute(
        update(Assignment)
        .where(Assignment.intervention_id == intervention.id, Assignment.status == AssignmentStatus.OFFERED)
        .values(status=AssignmentStatus.WITHDRAWN, answered_at=now, decline_reason=SESSION_FILLED)
        .execution_options(synchronize_session=False))
    session.refresh(intervention)
    request = intervention.request
    record_event(session, request, None, "session_confirmed", now, intervention.group_label, intervention)
    notices = [Notice(a.trainer.user, "offer_filled", request, intervention, assignment=a) for a in leftovers]
    creator = request.created_by
    # The contact gets the calendar invitation; the author of the request, if someone else, a notice.
    if creator is not None and creator.active and request.contact_email not in (None, creator.email):
        notices.append(Notice(creator, "session_confirmed", request, intervention))
    invitation = CalendarNotice(intervention, "REQUEST", _accepted_users(session, intervention), contact=True)
    return Change(notices, [invitation])


# -- the trainer's answers ---------------------------------------------------------------------------


def accept_offer(session: Session, assignment: Assignment, now: datetime) -> Change:
    """The trainer accepts: they take a place if one is left and they are not booked elsewhere then."""
    intervention = assignment.intervention
    _take_place(session, intervention.id, now)
    result = session.execute(
        update(Assignment)
        .where(Assignment.id == assignment.id, Assignment.open_offer(now))
        .values(status=AssignmentStatus.ACCEPTED, answered_at=now, accepted_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Refused("offer_closed")
    session.refresh(intervention)
    _book_trainer(session, assignment.trainer_id, intervention, assignment.distance_km)
    session.refresh(assignment)
    request = intervention.request
    trainer = assignment.trainer
    record_event(session, request, trainer.user, "offer_accepted", now,
                 f"{intervention.group_label} — {trainer.full_name}", intervention)
    change = _confirm_if_staffed(session, intervention, now)
    recompute_request_status(session, request, now)
    return change


def decline_offer(session: Session, assignment: Assignment, reason: str, now: datetime,
                  settings: OfferSettings) -> Change:
    """The trainer declines, with a reason; the session passes to the next best candidate."""
    lock_sessions(session, [assignment.intervention_id])
    result = session.execute(
        update(Assignment)
        .where(Assignment.id == assignment.id, Assignment.status == AssignmentStatus.OFFERED)
        .values(status=AssignmentStatus.DECLINED, answered_at=now, decline_reason=reason)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Refused("offer_closed")
    session.refresh(assignment)
    intervention = assignment.intervention
    trainer = assignment.trainer
    record_event(session, intervention.request, trainer.user, "offer_declined", now,
                 f"{intervention.group_label} — {trainer.full_name} — {reason}", intervention)
    return cascade(session, intervention, now, settings)


def expire_offer(session: Session, assignment_id: int, now: datetime, settings: OfferSettings) -> Change | None:
    """Closes one unanswered offer past its deadline and cascades (None: answered meanwhile)."""
    lock_sessions(session, session.scalars(select(Assignment.intervention_id).where(Assignment.id == assignment_id)))
    result = session.execute(
        update(Assignment)
        .where(Assignment.id == assignment_id, Assignment.status == AssignmentStatus.OFFERED,
               Assignment.expires_at <= now)
        .values(status=AssignmentStatus.EXPIRED, answered_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return None
    assignment = session.get(Assignment, assignment_id)
    session.refresh(assignment)
    intervention = assignment.intervention
    record_event(session, intervention.request, None, "offer_expired", now,
                 f"{intervention.group_label} — {assignment.trainer.full_name}", intervention)
    change = Change([Notice(assignment.trainer.user, "offer_expired", intervention.request, intervention,
                            assignment=assignment)])
    change += cascade(session, intervention, now, settings)
    return change


def cascade(session: Session, intervention: Intervention, now: datetime, settings: OfferSettings) -> Change:
    """Offers the session to the next best candidate, or hands it back to the coordinators, flagged."""
    from app.domain.matching import rank_intervention  # matching imports this module's neighbours

    session.refresh(intervention)
    if intervention.status not in STAFFABLE:
        return Change()
    _release_if_unstaffed(session, intervention, now)
    assignments = session.scalars(select(Assignment).where(Assignment.intervention_id == intervention.id)).all()
    live = [a for a in assignments if a.status in LIVE]
    if len(live) >= intervention.trainers_needed:
        return Change()
    tries = sum(1 for a in assignments if a.status in UNANSWERED)
    if tries >= settings.max_tries:
        return _flag(session, intervention, now, ATTENTION_OFFERS_EXHAUSTED % {"count": tries})
    from app.domain.autopilot import takes_over  # the autopilot plans with this module's offers

    if takes_over(session, intervention):
        return Change()  # its scope is on "automatic": the next tick plans the session with the others
    ranking = rank_intervention(session, intervention.id, now)
    for candidate in ranking.candidates if ranking else []:
        starts = offerable_starts(intervention, candidate.all_starts)
        if not starts:
            continue
        trainer = session.get(Trainer, candidate.trainer_id)
        duration = timedelta(minutes=intervention.request.duration_minutes)
        try:
            return make_offer(session, intervention, trainer, starts[0], starts[0] + duration, None, now, settings,
                              candidate.distance_km)
        except Refused:
            continue  # booked meanwhile: the next candidate
    return _flag(session, intervention, now, ATTENTION_NO_CANDIDATE)


def _flag(session: Session, intervention: Intervention, now: datetime, reason: str) -> Change:
    session.execute(update(Intervention).where(Intervention.id == intervention.id)
                    .values(attention_reason=reason, attention_at=now, updated_at=now)
                    .execution_options(synchronize_session=False))
    session.refresh(intervention)
    request = intervention.request
    record_event(session, request, None, "needs_attention", now, f"{intervention.group_label} — {reason}", intervention)
    recompute_request_status(session, request, now)
    return Change([Notice(user, "needs_attention", request, intervention, reason=stored_text(reason))
                   for user in coordinators_covering(session, intervention.departement_code, intervention.force)])


def expired_offer_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    return list(session.scalars(
        select(Assignment.id).where(Assignment.status == AssignmentStatus.OFFERED, Assignment.expires_at <= now)
        .order_by(Assignment.expires_at, Assignment.id).limit(limit)))


def _pending(trainer_id: int, now: datetime):
    return (select(Assignment).join(Intervention, Intervention.id == Assignment.intervention_id)
            .where(Assignment.trainer_id == trainer_id, Assignment.open_offer(now),
                   Intervention.status.in_(STAFFABLE)))


def pending_offers(session: Session, trainer_id: int, now: datetime, *, after: int | None = None,
                   limit: int = 20) -> tuple[list[Assignment], int | None]:
    """A page of the trainer's open offers, earliest session first (as a diary reads), with what their pages show;
    and the key of the next page. Keyset on (session start, offer id) from the offer `after`: a deep page costs
    what the first one does, and the statements are the same whatever the rows."""
    query = _pending(trainer_id, now)
    if after:
        anchor = (select(Intervention.starts_at).join(Assignment, Assignment.intervention_id == Intervention.id)
                  .where(Assignment.id == after).scalar_subquery())
        query = query.where(tuple_(Intervention.starts_at, Assignment.id) > tuple_(anchor, after))
    # Session, request and establishment (one each) joined in; topics and audiences by request.
    request_of = joinedload(Assignment.intervention).joinedload(Intervention.request)
    found = session.scalars(
        query.options(request_of.selectinload(InterventionRequest.topics),
                      request_of.selectinload(InterventionRequest.audiences),
                      request_of.joinedload(InterventionRequest.establishment))
        .order_by(Intervention.starts_at, Assignment.id).limit(limit + 1)).all()
    return cut(found, limit, lambda assignment: assignment.id)


def pending_offer_count(session: Session, trainer_id: int, now: datetime) -> int:
    return session.scalar(_pending(trainer_id, now).with_only_columns(func.count(Assignment.id)))


def reschedule(session: Session, intervention: Intervention, starts_at: datetime, ends_at: datetime, actor: User,
               now: datetime) -> Change:
    """Moves a confirmed session (agreed with everyone by phone) to a moment to come: calendars get the new time."""
    if starts_at <= now:
        raise Refused("start_in_past")
    old_start = intervention.starts_at
    result = session.execute(
        update(Intervention)
        .where(Intervention.id == intervention.id, Intervention.status == InterventionStatus.CONFIRMED,
               Intervention.starts_at > now)
        .values(starts_at=starts_at, ends_at=ends_at, updated_at=now, ical_sequence=Intervention.ical_sequence + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(intervention)
        raise Refused("session_past" if has_begun(intervention, now) else "session_changed")
    session.refresh(intervention)
    trainers = _accepted_users(session, intervention)
    for assignment in intervention.assignments:
        if assignment.status is AssignmentStatus.ACCEPTED:
            _book_trainer(session, assignment.trainer_id, intervention, assignment.distance_km)
    request = intervention.request
    zone = request.establishment.timezone
    record_event(session, request, actor, "rescheduled", now,
                 f"{intervention.group_label} — {moment_text(old_start, zone, locale='fr', default_zone=zone)} → "
                 f"{moment_text(starts_at, zone, locale='fr', default_zone=zone)}", intervention)
    return Change(calendar=[CalendarNotice(intervention, "REQUEST", trainers, contact=True)])
