"""The life of a request and its sessions: every change is one conditional UPDATE checked by row count.

draft → submitted → in planning (accepted) or refused → sessions scheduled → confirmed → done;
cancelled at any point with a reason. Each change writes a `RequestEvent` (the visible history) and
returns the notices that the people concerned must receive; the caller turns them into e-mails, in
the same transaction, so that the change and its messages are saved together.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.changes import CalendarNotice, Change, Notice, record_event
from app.domain.establishments import require_confirmed
from app.domain.locks import lock_request, lock_sessions_of
from app.domain.policies import coordinators_covering
from app.domain.refusals import Refused
from app.domain.vocabulary import N_
from app.models import (
    Assignment,
    AssignmentStatus,
    Feedback,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    RequestStatus,
    RequestWindow,
    Role,
    User,
)
from app.models.base import insert_for

EDITABLE = (RequestStatus.DRAFT, RequestStatus.SUBMITTED)
CANCELLABLE = (RequestStatus.DRAFT, RequestStatus.SUBMITTED, RequestStatus.IN_PLANNING, RequestStatus.SCHEDULED,
               RequestStatus.CONFIRMED)
# Statuses derived from the sessions once a coordinator has accepted the request.
PLANNED = (RequestStatus.IN_PLANNING, RequestStatus.SCHEDULED, RequestStatus.CONFIRMED, RequestStatus.DONE)
OPEN_SESSION = (InterventionStatus.TO_SCHEDULE, InterventionStatus.OFFERED, InterventionStatus.CONFIRMED)
FEEDBACK_EDIT_DAYS = 7


def _move(session: Session, request: InterventionRequest, allowed: tuple[RequestStatus, ...], refusal: str,
          **values) -> None:
    """The conditional update: the row changes only if its status is still one of `allowed`; else `refusal`."""
    result = session.execute(
        update(InterventionRequest)
        .where(InterventionRequest.id == request.id, InterventionRequest.status.in_(allowed))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Refused(refusal)
    session.refresh(request)


def _requester_side(request: InterventionRequest) -> list[User]:
    creator = request.created_by
    return [creator] if creator is not None and creator.active else []


def _trainers_of(intervention: Intervention) -> list[User]:
    return [a.trainer.user for a in intervention.assignments
            if a.status in (AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED)]


# -- requester side --------------------------------------------------------------------------------


def record_creation(session: Session, request: InterventionRequest, actor: User, now: datetime,
                    note: str | None = None) -> None:
    session.flush()
    record_event(session, request, actor, "created", now, note)


def record_edit(session: Session, request: InterventionRequest, actor: User, now: datetime) -> None:
    """Call before changing a request's fields: refuses once it is planned (race-free)."""
    status = request.status
    _move(session, request, EDITABLE, "request_not_editable", updated_at=now)
    if status is RequestStatus.SUBMITTED:
        record_event(session, request, actor, "edited", now)


def submit(session: Session, request: InterventionRequest, actor: User, now: datetime) -> Change:
    """Draft → submitted; the territory (département, force) is taken from the establishment, once the
    coordination has confirmed it."""
    establishment = request.establishment
    require_confirmed(establishment)
    _move(session, request, (RequestStatus.DRAFT,), "request_not_draft", status=RequestStatus.SUBMITTED,
          submitted_at=now, updated_at=now, departement_code=establishment.departement_code,
          force=request.force if request.force_overridden else establishment.force)
    record_event(session, request, actor, "submitted", now)
    return Change([Notice(user, "submitted", request)
                   for user in coordinators_covering(session, request.departement_code, request.force)])


def duplicate(session: Session, source: InterventionRequest, actor: User, today: date, now: datetime
              ) -> InterventionRequest:
    """A new draft like `source`, its windows moved by whole years (same weekdays) into the future."""
    copy = InterventionRequest(
        establishment_id=source.establishment_id, created_by_id=actor.id, status=RequestStatus.DRAFT,
        departement_code=source.establishment.departement_code, force=source.establishment.force,
        group_count=source.group_count, people_per_group=source.people_per_group,
        duration_minutes=source.duration_minutes, place=source.place, room=source.room,
        equipment=source.equipment, contact_name=source.contact_name, contact_phone=source.contact_phone,
        contact_email=source.contact_email, notes=source.notes, wants_two_trainers=source.wants_two_trainers,
        copied_from_id=source.id, created_at=now, updated_at=now)
    copy.topics = list(source.topics)
    copy.audiences = list(source.audiences)
    for window in source.windows:
        shift = timedelta(weeks=52)
        while window.start_date + shift < today:
            shift += timedelta(weeks=52)
        copy.windows.append(RequestWindow(start_date=window.start_date + shift, end_date=window.end_date + shift,
                                          start_time=window.start_time, end_time=window.end_time))
    session.add(copy)
    session.flush()
    record_event(session, copy, actor, "created", now, f"n° {source.id}")
    return copy


def cancel_request(session: Session, request: InterventionRequest, actor: User, reason: str, now: datetime
                   ) -> Change:
    """Cancels the request and its open sessions; tells the other side and the trainers concerned."""
    lock_sessions_of(session, request.id)
    previous = request.status
    _move(session, request, CANCELLABLE, "request_not_cancellable", status=RequestStatus.CANCELLED,
          cancel_reason=reason, updated_at=now)
    record_event(session, request, actor, "cancelled", now, reason)
    change = Change()
    for intervention in request.interventions:
        if intervention.status in OPEN_SESSION:
            change += _close_session(session, request, intervention, reason, now)
    if previous is not RequestStatus.DRAFT:
        change.notices += _other_side(session, request, actor, "request_cancelled", reason)
    return change


def cancel_intervention(session: Session, intervention: Intervention, actor: User, reason: str, now: datetime
                        ) -> Change:
    """Cancels one session; the request's status follows (cancelled when no session is left)."""
    request = intervention.request
    change = _close_session(session, request, intervention, reason, now)
    record_event(session, request, actor, "session_cancelled", now, f"{intervention.group_label} — {reason}",
                 intervention)
    change.notices += _other_side(session, request, actor, "session_cancelled", reason, intervention)
    recompute_request_status(session, request, now)
    return change


def _close_session(session: Session, request: InterventionRequest, intervention: Intervention, reason: str,
                   now: datetime) -> Change:
    was_confirmed = intervention.status is InterventionStatus.CONFIRMED
    accepted = tuple(a.trainer.user for a in intervention.assignments if a.status is AssignmentStatus.ACCEPTED)
    result = session.execute(
        update(Intervention)
        .where(Intervention.id == intervention.id, Intervention.status.in_(OPEN_SESSION))
        .values(status=InterventionStatus.CANCELLED, cancel_reason=reason, updated_at=now,
                ical_sequence=Intervention.ical_sequence + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Refused("session_not_open")
    trainers = _trainers_of(intervention)
    session.execute(
        update(Assignment)
        .where(Assignment.intervention_id == intervention.id,
               Assignment.status.in_((AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED)))
        .values(status=AssignmentStatus.WITHDRAWN, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(intervention)
    change = Change([Notice(user, "session_cancelled", request, intervention, reason) for user in trainers])
    if was_confirmed:
        # Calendars that received the invitation remove the event (same UID, higher SEQUENCE).
        change.calendar.append(CalendarNotice(intervention, "CANCEL", accepted, contact=True, reason=reason))
    return change


def _other_side(session: Session, request: InterventionRequest, actor: User, kind: str, reason: str,
                intervention: Intervention | None = None) -> list[Notice]:
    """The requester when staff acted, the coordinators when the requester did."""
    if actor.role is Role.REQUESTER:
        people = coordinators_covering(session, request.departement_code, request.force)
    else:
        people = _requester_side(request)
    return [Notice(user, kind, request, intervention, reason) for user in people if user.id != actor.id]


# -- coordinator side ------------------------------------------------------------------------------


def accept(session: Session, request: InterventionRequest, actor: User, now: datetime) -> Change:
    """Submitted → in planning: one session per group, in the request's territory (once its force is decided)."""
    if request.force is None:
        raise Refused("request_force_missing")
    _move(session, request, (RequestStatus.SUBMITTED,), "request_not_submitted", status=RequestStatus.IN_PLANNING,
          accepted_at=now, updated_at=now)
    for number in range(1, request.group_count + 1):
        session.add(Intervention(
            request_id=request.id, group_label=f"Groupe {number}", status=InterventionStatus.TO_SCHEDULE,
            departement_code=request.departement_code, force=request.force,
            trainers_needed=2 if request.wants_two_trainers else 1, created_at=now, updated_at=now))
    session.flush()
    session.expire(request, ["interventions"])
    record_event(session, request, actor, "accepted", now)
    return Change([Notice(user, "accepted", request) for user in _requester_side(request)])


def refuse(session: Session, request: InterventionRequest, actor: User, reason: str, now: datetime) -> Change:
    _move(session, request, (RequestStatus.SUBMITTED,), "request_not_submitted", status=RequestStatus.REFUSED,
          refusal_reason=reason, updated_at=now)
    record_event(session, request, actor, "refused", now, reason)
    return Change([Notice(user, "refused", request, reason=reason) for user in _requester_side(request)])


def override_force(session: Session, request: InterventionRequest, actor: User, force: Force, now: datetime
                   ) -> None:
    """A coordinator assigns the request (and its open sessions) to the other force, or decides one."""
    lock_sessions_of(session, request.id)
    _move(session, request, (RequestStatus.SUBMITTED, RequestStatus.IN_PLANNING), "request_force_locked", force=force,
          force_overridden=True, updated_at=now)
    session.execute(
        update(Intervention)
        .where(Intervention.request_id == request.id, Intervention.status == InterventionStatus.TO_SCHEDULE)
        .values(force=force, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(request, ["interventions"])
    record_event(session, request, actor, "force_changed", now, force.value)


def derived_status(statuses: list[InterventionStatus]) -> RequestStatus:
    """The request's status once planned, from its sessions' statuses."""
    active = [status for status in statuses if status is not InterventionStatus.CANCELLED]
    if not active:
        return RequestStatus.CANCELLED
    finished = (InterventionStatus.DONE, InterventionStatus.NOT_HELD)
    if all(status in finished for status in active):
        return RequestStatus.DONE
    if all(status in (InterventionStatus.CONFIRMED, *finished) for status in active):
        return RequestStatus.CONFIRMED
    if any(status is not InterventionStatus.TO_SCHEDULE for status in active):
        return RequestStatus.SCHEDULED
    return RequestStatus.IN_PLANNING


def recompute_request_status(session: Session, request: InterventionRequest, now: datetime) -> RequestStatus:
    """Brings a planned request's status in line with its sessions (for the planning and report steps). The
    request's row is locked first: two sessions confirmed at the same moment each see the other's status."""
    lock_request(session, request.id)
    statuses = list(session.scalars(select(Intervention.status).where(Intervention.request_id == request.id)))
    target = derived_status(statuses)
    if target is not request.status and request.status in PLANNED:
        values = {"status": target, "updated_at": now}
        if target is RequestStatus.CANCELLED:
            values["cancel_reason"] = N_("Toutes les interventions sont annulées.")
        result = session.execute(
            update(InterventionRequest)
            .where(InterventionRequest.id == request.id, InterventionRequest.status.in_(PLANNED))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            session.refresh(request)
            if target is RequestStatus.CANCELLED:
                record_event(session, request, None, "cancelled", now, values["cancel_reason"])
    return request.status


# -- feedback ------------------------------------------------------------------------------------


def feedback_possible(intervention: Intervention, now: datetime) -> bool:
    """After the session: its report says done, or it is confirmed and its time has passed."""
    if intervention.status is InterventionStatus.DONE:
        return True
    return (intervention.status is InterventionStatus.CONFIRMED and intervention.ends_at is not None
            and intervention.ends_at <= now)


def feedback_editable(feedback: Feedback, now: datetime) -> bool:
    return now < feedback.created_at + timedelta(days=FEEDBACK_EDIT_DAYS)


def save_feedback(session: Session, intervention: Intervention, author: User, satisfaction: int,
                  comment: str | None, now: datetime) -> Feedback:
    """Gives (once) or corrects (for a week) the requester's feedback on a session."""
    if not 1 <= satisfaction <= 5:
        raise ValueError("satisfaction must be between 1 and 5")
    if not feedback_possible(intervention, now):
        raise Refused("feedback_closed")
    feedback = session.scalar(select(Feedback).where(Feedback.intervention_id == intervention.id))
    if feedback is None:
        # ON CONFLICT: "once per session" holds under races too (the unique constraint), as a refusal.
        inserted = session.scalar(
            insert_for(session)(Feedback)
            .values(intervention_id=intervention.id, author_id=author.id, satisfaction=satisfaction,
                    comment=comment, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["intervention_id"]).returning(Feedback.id))
        if inserted is None:
            raise Refused("feedback_closed")
        session.expire(intervention, ["feedback"])
        feedback = intervention.feedback
        record_event(session, intervention.request, author, "feedback", now, intervention.group_label, intervention)
        return feedback
    result = session.execute(
        update(Feedback)
        .where(Feedback.id == feedback.id, Feedback.created_at > now - timedelta(days=FEEDBACK_EDIT_DAYS))
        .values(satisfaction=satisfaction, comment=comment, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Refused("feedback_closed")
    session.refresh(feedback)
    return feedback
