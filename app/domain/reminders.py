"""Who is to be reminded of what, and when: before a session, when a report is overdue, the requester's feedback
invitation, and the coordinators' weekly digest. The periodic jobs (app.jobs) write the e-mails; each reminder has
a dedup key so that it is sent once however often `tick` runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from app.domain.certification import CertificationState
from app.domain.policies import SESSIONS, TRAINERS
from app.domain.roster import certification_condition
from app.models import (
    Assignment,
    AssignmentStatus,
    CoordinatorScope,
    Feedback,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    Role,
    SessionReport,
    Trainer,
    User,
)

# Reports are asked for sessions of the last two months at most: a new installation does not chase
# years of history.
REPORT_CHASE_LIMIT = timedelta(days=60)
FEEDBACK_INVITATION_LIMIT = timedelta(days=30)


def _with_session_details(query):
    request_of = selectinload(Intervention.request)
    return query.options(request_of.selectinload(InterventionRequest.establishment),
                         request_of.selectinload(InterventionRequest.topics),
                         request_of.selectinload(InterventionRequest.audiences),
                         request_of.selectinload(InterventionRequest.created_by),
                         selectinload(Intervention.assignments).selectinload(Assignment.trainer))


def sessions_to_remind(session: Session, now: datetime, days: int) -> list[Intervention]:
    """Confirmed sessions starting in `days` days (within the coming day). A session confirmed after that
    moment is skipped: its people were just told."""
    ahead = timedelta(days=days)
    sessions = session.scalars(_with_session_details(
        select(Intervention).where(Intervention.status == InterventionStatus.CONFIRMED,
                                   Intervention.starts_at > now + ahead - timedelta(days=1),
                                   Intervention.starts_at <= now + ahead)
        .order_by(Intervention.id))).all()
    # Compared here, not in SQL: date arithmetic differs between SQLite and PostgreSQL.
    return [i for i in sessions if i.confirmed_at is not None and i.confirmed_at <= i.starts_at - ahead]


def reminder_recipients(intervention: Intervention) -> list[tuple[User | str, str]]:
    """(person or address, side) of a session's reminder: each trainer on it ("trainer") and the establishment's
    contact ("establishment"), as an account when the contact is the author of the request."""
    recipients: list[tuple[User | str, str]] = [
        (a.trainer.user, "trainer") for a in intervention.assignments if a.status is AssignmentStatus.ACCEPTED]
    request = intervention.request
    contact = request.contact_email or (request.created_by.email if request.created_by else None)
    if contact:
        creator = request.created_by
        recipients.append((creator if creator is not None and creator.email == contact else contact, "establishment"))
    return recipients


def reminder_key(intervention: Intervention, days: int, address: str) -> str:
    """Once per session, delay, start time (a rescheduled session is reminded again) and person."""
    return f"reminder:{intervention.id}:{days}:{intervention.starts_at.isoformat()}:{address}"


def overdue_reports(session: Session, now: datetime, overdue: timedelta) -> list[tuple[Intervention, Trainer]]:
    """(session, trainer) whose report is late: `overdue` after the session ended, within the chase limit."""
    return list(session.execute(
        select(Intervention, Trainer)
        .join(Assignment, Assignment.intervention_id == Intervention.id)
        .join(Trainer, Trainer.id == Assignment.trainer_id)
        .where(Assignment.status == AssignmentStatus.ACCEPTED,
               Intervention.status.in_((InterventionStatus.CONFIRMED, InterventionStatus.DONE,
                                        InterventionStatus.NOT_HELD)),
               Intervention.ends_at <= now - overdue, Intervention.ends_at > now - REPORT_CHASE_LIMIT,
               ~exists().where(SessionReport.intervention_id == Intervention.id,
                               SessionReport.trainer_id == Trainer.id))
        .options(selectinload(Intervention.request).selectinload(InterventionRequest.establishment))
        .order_by(Intervention.id, Trainer.id)).tuples())


def sessions_awaiting_feedback(session: Session, now: datetime) -> list[Intervention]:
    """Sessions reported held recently, with no feedback yet, whose requester can still be asked."""
    sessions = session.scalars(
        select(Intervention).join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .where(Intervention.status == InterventionStatus.DONE, Intervention.ends_at <= now,
               Intervention.ends_at > now - FEEDBACK_INVITATION_LIMIT,
               ~exists().where(Feedback.intervention_id == Intervention.id))
        .options(selectinload(Intervention.request).selectinload(InterventionRequest.created_by),
                 selectinload(Intervention.request).selectinload(InterventionRequest.establishment))
        .order_by(Intervention.id)).all()
    return [i for i in sessions if i.request.created_by is not None and i.request.created_by.active]


def coordinators_with_a_scope(session: Session) -> list[User]:
    return list(session.scalars(
        select(User).where(User.role == Role.COORDINATOR, User.active, User.activated_at.is_not(None),
                           exists().where(CoordinatorScope.user_id == User.id))
        .options(selectinload(User.scopes)).order_by(User.id)))


def digest_counts(session: Session, coordinator: User, now: datetime) -> dict[str, int]:
    """What needs a coordinator this week: sessions without a trainer, flagged ones, offers about to expire,
    certifications lapsing, in their territory."""
    in_scope = SESSIONS.rows(coordinator)
    unstaffed = session.scalar(select(func.count(Intervention.id)).where(
        in_scope, Intervention.status == InterventionStatus.TO_SCHEDULE))
    flagged = session.scalar(select(func.count(Intervention.id)).where(
        in_scope, Intervention.status.in_((InterventionStatus.TO_SCHEDULE, InterventionStatus.OFFERED)),
        Intervention.attention_reason.is_not(None)))
    expiring = session.scalar(
        select(func.count(Assignment.id)).join(Intervention, Intervention.id == Assignment.intervention_id)
        .where(in_scope, Assignment.status == AssignmentStatus.OFFERED,
               Assignment.expires_at <= now + timedelta(hours=48)))
    lapsing = session.scalar(select(func.count(Trainer.id)).where(
        TRAINERS.rows(coordinator), Trainer.active, certification_condition(CertificationState.EXPIRING, now.date())))
    return {"unstaffed": unstaffed, "flagged": flagged, "expiring": expiring, "lapsing": lapsing}


def digest_key(coordinator: User, now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"digest:{coordinator.id}:{year}-W{week:02d}"
