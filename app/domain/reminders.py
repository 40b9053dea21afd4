"""Reminders sent by `flask tick`, each exactly once (a dedup key per reminder, inserted with ON CONFLICT):
before a session, when a report is overdue, the requester's feedback invitation, and the
coordinators' weekly digest."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from app.domain.certification import CertificationState
from app.domain.periodic import periodic_job
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


@periodic_job("rappels-avant-intervention")
def remind_before_sessions(session: Session, now: datetime) -> int:
    """A week and a day before (configurable): to each trainer and to the establishment's contact.

    A reminder is skipped when the session was confirmed after its moment: they were just told."""
    from app.emails import absolute_url, queue_templated_email, url_context

    queued = 0
    for days in current_app.config["RELAIS_REMINDER_DAYS_BEFORE"]:
        ahead = timedelta(days=days)
        sessions = session.scalars(_with_session_details(
            select(Intervention).where(Intervention.status == InterventionStatus.CONFIRMED,
                                       Intervention.starts_at > now + ahead - timedelta(days=1),
                                       Intervention.starts_at <= now + ahead)
            .order_by(Intervention.id))).all()
        # Compared here, not in SQL: date arithmetic differs between SQLite and PostgreSQL.
        sessions = [i for i in sessions if i.confirmed_at is not None and i.confirmed_at <= i.starts_at - ahead]
        with url_context():
            for intervention in sessions:
                request = intervention.request
                recipients: list[tuple[User | str, str]] = [
                    (a.trainer.user, absolute_url("main.home")) for a in intervention.assignments
                    if a.status is AssignmentStatus.ACCEPTED]
                contact = request.contact_email or (request.created_by.email if request.created_by else None)
                if contact:
                    creator = request.created_by
                    recipients.append((creator if creator is not None and creator.email == contact else contact,
                                       absolute_url("interventions.show", request_id=request.id)))
                for recipient, link in recipients:
                    address = recipient.email if isinstance(recipient, User) else recipient
                    key = f"reminder:{intervention.id}:{days}:{intervention.starts_at.isoformat()}:{address}"
                    subject = (_l("Rappel : intervention demain") if days == 1
                               else _l("Rappel : intervention dans %(days)s jours", days=days))
                    if queue_templated_email(recipient, "reminder_session", subject, dedup_key=key, days=days,
                                             intervention=intervention, link=link):
                        queued += 1
    return queued


@periodic_job("comptes-rendus-en-retard")
def remind_overdue_reports(session: Session, now: datetime) -> int:
    """Trainers whose report is late (2 days after the session by default), once per session."""
    from app.emails import absolute_url, queue_templated_email, url_context

    overdue = timedelta(days=current_app.config["RELAIS_REPORT_OVERDUE_DAYS"])
    rows = session.execute(
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
        .order_by(Intervention.id, Trainer.id)).all()
    queued = 0
    with url_context():
        for intervention, trainer in rows:
            if queue_templated_email(trainer.user, "report_overdue", _l("Compte rendu d'intervention à remplir"),
                                     dedup_key=f"report-overdue:{intervention.id}:{trainer.id}",
                                     intervention=intervention,
                                     link=absolute_url("reports.file", intervention_id=intervention.id)):
                queued += 1
    return queued


@periodic_job("invitations-avis")
def invite_feedback(session: Session, now: datetime) -> int:
    """Once a session is reported held, the requester is invited to give their opinion, once."""
    from app.emails import absolute_url, queue_templated_email, url_context

    sessions = session.scalars(
        select(Intervention).join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .where(Intervention.status == InterventionStatus.DONE, Intervention.ends_at <= now,
               Intervention.ends_at > now - FEEDBACK_INVITATION_LIMIT,
               ~exists().where(Feedback.intervention_id == Intervention.id))
        .options(selectinload(Intervention.request).selectinload(InterventionRequest.created_by),
                 selectinload(Intervention.request).selectinload(InterventionRequest.establishment))
        .order_by(Intervention.id)).all()
    queued = 0
    with url_context():
        for intervention in sessions:
            author = intervention.request.created_by
            if author is None or not author.active:
                continue
            link = absolute_url("interventions.feedback", request_id=intervention.request_id,
                                intervention_id=intervention.id)
            if queue_templated_email(author, "feedback_invitation", _l("Votre avis sur l'intervention"),
                                     dedup_key=f"feedback-invitation:{intervention.id}", intervention=intervention,
                                     link=link):
                queued += 1
    return queued


@periodic_job("synthese-hebdomadaire")
def weekly_digest(session: Session, now: datetime) -> int:
    """Each coordinator, once a week, if something needs them: sessions without a trainer, offers about
    to expire, certifications lapsing."""
    from app.emails import absolute_url, queue_templated_email, url_context
    from app.scoping import intervention_scope_condition, trainer_scope_condition

    year, week, _ = now.isocalendar()
    coordinators = session.scalars(
        select(User).where(User.role == Role.COORDINATOR, User.active, User.activated_at.is_not(None),
                           exists().where(CoordinatorScope.user_id == User.id))
        .options(selectinload(User.scopes)).order_by(User.id)).all()
    queued = 0
    with url_context():
        for coordinator in coordinators:
            in_scope = intervention_scope_condition(coordinator)
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
                trainer_scope_condition(coordinator), Trainer.active,
                certification_condition(CertificationState.EXPIRING, now.date())))
            counts = {"unstaffed": unstaffed, "flagged": flagged, "expiring": expiring, "lapsing": lapsing}
            if not any(counts.values()):
                continue
            if queue_templated_email(coordinator, "weekly_digest", _l("Relais : votre synthèse de la semaine"),
                                     dedup_key=f"digest:{coordinator.id}:{year}-W{week:02d}", counts=counts,
                                     link=absolute_url("main.home")):
                queued += 1
    return queued

