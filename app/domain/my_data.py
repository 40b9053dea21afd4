"""« Mes données » (RGPD art. 15 and 20, issue #21): everything Relais holds about one person, read in a fixed
number of statements whatever they did, as plain values a page shows and a JSON file carries.

Only the person's own rows: their account, their establishment or trainer record, the sessions and offers of
their trainer record, the requests they wrote, their reports and feedback, their log-in sessions, calendar links,
correction requests, warnings and the e-mails Relais wrote to them. Never a secret (password hash, tokens).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.domain.policies import coordinators_covering
from app.models import (
    Assignment,
    AssignmentStatus,
    CalendarConnection,
    CalendarFeed,
    CorrectionRequest,
    Establishment,
    Feedback,
    InactivityWarning,
    Intervention,
    InterventionRequest,
    LoginSession,
    OutgoingMessage,
    Role,
    SessionReport,
    Trainer,
    User,
)

# The e-mails shown (most recent first): the outbox keeps more, but a page of them says what kind Relais sends.
MESSAGES_SHOWN = 50


def _establishment(establishment: Establishment | None) -> dict | None:
    if establishment is None:
        return None
    return {"id": establishment.id, "name": establishment.name, "kind": str(establishment.kind),
            "uai": establishment.uai, "siret": establishment.siret, "address": establishment.address,
            "postcode": establishment.postcode, "commune": establishment.commune_name,
            "phone": establishment.phone}


def _trainer(trainer: Trainer | None) -> dict | None:
    if trainer is None:
        return None
    return {"id": trainer.id, "force": str(trainer.force), "rank": trainer.rank, "matricule": trainer.matricule,
            "unit": trainer.unit.name, "departements": [d.code for d in trainer.departements],
            "topics": [t.code for t in trainer.topics], "audiences": [a.code for a in trainer.audiences],
            "initial_training_on": trainer.initial_training_on, "last_refresher_on": trainer.last_refresher_on,
            "max_sessions_per_week": trainer.max_sessions_per_week,
            "max_sessions_per_month": trainer.max_sessions_per_month, "max_distance_km": trainer.max_distance_km,
            "accepts_pair_work": trainer.accepts_pair_work, "languages": trainer.languages,
            "active": trainer.active, "inactive_reason": trainer.inactive_reason, "departed_on": trainer.departed_on,
            "weekly_availability": [{"weekday": p.weekday, "start": p.start_time.strftime("%H:%M"),
                                     "end": p.end_time.strftime("%H:%M"), "valid_from": p.valid_from,
                                     "valid_until": p.valid_until} for p in trainer.patterns],
            "exceptions": [{"kind": str(e.kind), "starts_at": e.starts_at, "ends_at": e.ends_at, "reason": e.reason}
                           for e in trainer.exceptions]}


def collect(session: Session, user: User) -> dict:
    """What Relais holds about this person, section by section (values: str, int, bool, date, datetime, None)."""
    trainer = session.scalar(select(Trainer).where(Trainer.user_id == user.id).options(
        selectinload(Trainer.departements), selectinload(Trainer.topics), selectinload(Trainer.audiences),
        selectinload(Trainer.patterns), selectinload(Trainer.exceptions)))
    assignments = [] if trainer is None else list(session.scalars(
        select(Assignment).where(Assignment.trainer_id == trainer.id)
        .options(joinedload(Assignment.intervention).joinedload(Intervention.request)
                 .joinedload(InterventionRequest.establishment))
        .order_by(Assignment.offered_at.desc(), Assignment.id.desc())))
    requests = list(session.scalars(
        select(InterventionRequest).where(InterventionRequest.created_by_id == user.id)
        .options(joinedload(InterventionRequest.establishment))
        .order_by(InterventionRequest.created_at.desc(), InterventionRequest.id.desc())))
    reports = list(session.scalars(
        select(SessionReport).where(SessionReport.author_id == user.id)
        .options(joinedload(SessionReport.intervention)).order_by(SessionReport.created_at.desc())))
    feedback = list(session.scalars(
        select(Feedback).where(Feedback.author_id == user.id).options(joinedload(Feedback.intervention))
        .order_by(Feedback.created_at.desc())))
    logins = list(session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)
                                  .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())))
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    caldav = session.scalar(select(CalendarConnection).where(CalendarConnection.user_id == user.id))
    corrections = list(session.scalars(select(CorrectionRequest).where(CorrectionRequest.user_id == user.id)
                                       .order_by(CorrectionRequest.created_at.desc())))
    warnings = list(session.scalars(select(InactivityWarning).where(InactivityWarning.user_id == user.id)
                                    .order_by(InactivityWarning.warned_at.desc())))
    messages = session.execute(select(OutgoingMessage.created_at, OutgoingMessage.subject, OutgoingMessage.status)
                               .where(OutgoingMessage.recipient == user.email)
                               .order_by(OutgoingMessage.created_at.desc(), OutgoingMessage.id.desc())
                               .limit(MESSAGES_SHOWN)).all()

    def session_row(assignment: Assignment) -> dict:
        intervention = assignment.intervention
        return {"session_id": intervention.id, "starts_at": intervention.starts_at, "ends_at": intervention.ends_at,
                "group": str(intervention.group_label), "status": str(intervention.status),
                "establishment": intervention.request.establishment.name,
                "commune": intervention.request.establishment.commune_name,
                "assignment_status": str(assignment.status), "offered_at": assignment.offered_at,
                "answered_at": assignment.answered_at, "decline_reason": assignment.decline_reason,
                "distance_km": assignment.distance_km}

    return {
        "generated_at": None,  # set by the caller (the moment of the download)
        "account": {"id": user.id, "email": user.email, "full_name": user.full_name, "phone": user.phone,
                    "role": str(user.role), "language": user.language, "active": user.active,
                    "created_at": user.created_at, "activated_at": user.activated_at,
                    "last_login_at": user.last_login_at,
                    "scopes": [{"departement": s.departement_code, "force": str(s.force) if s.force else None}
                               for s in user.scopes]},
        "establishment": _establishment(user.establishment),
        "trainer": _trainer(trainer),
        "sessions": [session_row(a) for a in assignments if a.status is AssignmentStatus.ACCEPTED],
        "offers": [session_row(a) for a in assignments if a.status is not AssignmentStatus.ACCEPTED],
        "requests": [{"id": r.id, "establishment": r.establishment.name, "status": str(r.status),
                      "created_at": r.created_at, "submitted_at": r.submitted_at, "contact_name": r.contact_name,
                      "contact_phone": r.contact_phone, "contact_email": r.contact_email, "notes": r.notes}
                     for r in requests],
        "reports": [{"session_id": r.intervention_id, "starts_at": r.intervention.starts_at, "held": r.held,
                     "people_present": r.people_present, "remarks": r.remarks, "created_at": r.created_at}
                    for r in reports],
        "feedback": [{"session_id": f.intervention_id, "starts_at": f.intervention.starts_at,
                      "satisfaction": f.satisfaction, "comment": f.comment, "created_at": f.created_at}
                     for f in feedback],
        "login_sessions": [{"created_at": s.created_at, "last_seen_at": s.last_seen_at, "expires_at": s.expires_at,
                            "revoked_at": s.revoked_at, "remember": s.remember, "browser": s.user_agent,
                            "address": s.address} for s in logins],
        "calendar_feed": None if feed is None else {"created_at": feed.created_at, "reset_at": feed.reset_at},
        "caldav": None if caldav is None else {"server_url": caldav.server_url, "username": caldav.username,
                                               "calendar_name": caldav.calendar_name, "state": str(caldav.state),
                                               "created_at": caldav.created_at,
                                               "last_success_at": caldav.last_success_at},
        "correction_requests": [{"created_at": c.created_at, "message": c.message, "sent_to": c.recipients}
                                for c in corrections],
        "inactivity_warnings": [{"warned_at": w.warned_at, "last_activity": w.last_activity,
                                 "deactivated_at": w.deactivated_at} for w in warnings],
        "emails": [{"created_at": at, "subject": subject, "status": str(status)} for at, subject, status in messages],
    }


def plain(value):
    """A value of `collect` as JSON writes it: dates and times in ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def correction_recipients(session: Session, user: User) -> list[User]:
    """Who receives a person's correction request: for a trainer, the coordination of their territory (the
    coordinators covering their départements in their force), who keeps their record; for everyone else, and for a
    trainer no coordinator covers, the national administration."""
    trainer = session.scalar(select(Trainer).where(Trainer.user_id == user.id)
                             .options(selectinload(Trainer.departements)))
    found: dict[int, User] = {}
    if trainer is not None:
        for departement in trainer.departements:
            for coordinator in coordinators_covering(session, departement.code, trainer.force):
                found.setdefault(coordinator.id, coordinator)
    if not found:
        found = {admin.id: admin for admin in session.scalars(
            select(User).where(User.role == Role.ADMIN, User.active, User.activated_at.is_not(None))
            .order_by(User.id))}
    return [person for person in found.values() if person.id != user.id] or list(found.values())


def record_correction(session: Session, user: User, message: str, recipients: list[User],
                      now: datetime) -> CorrectionRequest:
    """Keeps the request (what was asked, when, to whom): the person sees it in « Mes données »."""
    correction = CorrectionRequest(user_id=user.id, message=message, created_at=now,
                                   recipients=", ".join(person.email for person in recipients))
    session.add(correction)
    session.flush()
    return correction


# Correction requests a person may send in a day: enough for any real need, not a way to flood the coordination.
CORRECTIONS_PER_DAY = 5


def corrections_left_today(session: Session, user: User, now: datetime) -> int:
    """How many more correction requests the person may send now (at most CORRECTIONS_PER_DAY in 24 hours)."""
    sent = session.scalar(select(func.count(CorrectionRequest.id)).where(
        CorrectionRequest.user_id == user.id, CorrectionRequest.created_at > now - timedelta(days=1)))
    return max(0, CORRECTIONS_PER_DAY - sent)
