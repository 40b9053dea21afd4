"""After a session: each trainer reports; the first report makes the session done (or not held).

A report says whether the session was held: held with the people reached, not held with a reason from
`NOT_HELD_REASONS`; anything less is refused, so the statistics only ever count complete reports. Its trainer
can correct it for 30 days, then it is locked (an admin can reopen it for another 30); the coordination of the
session corrects it at any time. Every change after filing is kept, field by field (`ReportCorrection`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, joinedload

from app.domain.changes import record_event
from app.domain.lifecycle import recompute_request_status
from app.domain.locks import lock_sessions
from app.domain.refusals import Refused
from app.models import (
    Assignment,
    AssignmentStatus,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    ReportCorrection,
    SessionReport,
    Topic,
    Trainer,
    User,
)

EDIT_WINDOW = timedelta(days=30)
REPORTABLE = (InterventionStatus.CONFIRMED, InterventionStatus.DONE, InterventionStatus.NOT_HELD)
# Why a session was not held, as the statistics group them (labels: app.labels.NOT_HELD_REASONS).
NOT_HELD_REASONS = ("establishment_cancelled", "audience_absent", "trainer_prevented", "premises_closed",
                    "event", "other")
# What a correction compares, in the order the history shows it.
REPORT_FIELDS = ("held", "people_present", "pupils", "staff", "parents", "not_held_code", "not_held_reason",
                 "topics", "remarks")


@dataclass(frozen=True)
class ReportData:
    held: bool | None  # None: the trainer did not say
    not_held_code: str | None = None
    not_held_reason: str | None = None
    people_present: int | None = None
    pupils: int | None = None
    staff: int | None = None
    parents: int | None = None
    topic_codes: tuple[str, ...] = field(default_factory=tuple)
    remarks: str | None = None


def may_report(intervention: Intervention, trainer_id: int, now: datetime) -> bool:
    """The session has ended and the trainer had accepted it."""
    return (intervention.status in REPORTABLE and intervention.ends_at is not None and intervention.ends_at <= now
            and any(a.trainer_id == trainer_id and a.status is AssignmentStatus.ACCEPTED
                    for a in intervention.assignments))


def is_locked(report: SessionReport, now: datetime) -> bool:
    return now >= report.editable_until


def is_complete(data: ReportData) -> bool:
    """Held with the people reached, or not held with a listed reason: what the statistics may count."""
    if data.held is None:
        return False
    if data.held:
        return data.people_present is not None and data.people_present >= 1
    return data.not_held_code in NOT_HELD_REASONS


def _values(data: ReportData) -> dict:
    """The columns of a report from what was said; what does not apply to the answer is cleared."""
    if not is_complete(data):
        raise Refused("report_incomplete")
    held = data.held
    return dict(held=held, not_held_code=None if held else data.not_held_code,
                not_held_reason=None if held else data.not_held_reason,
                people_present=data.people_present if held else None,
                pupils=data.pupils if held else None, staff=data.staff if held else None,
                parents=data.parents if held else None, remarks=data.remarks)


def save_report(session: Session, intervention: Intervention, trainer: Trainer, data: ReportData, author: User,
                now: datetime) -> SessionReport:
    """Files (once per trainer: a unique constraint) or corrects (until locked) the trainer's report."""
    if not may_report(intervention, trainer.id, now):
        raise Refused("report_closed")
    values = _values(data)
    lock_sessions(session, [intervention.id])  # the session before the report's row and the request
    topics = [session.get(Topic, code) for code in data.topic_codes]
    report = session.scalar(select(SessionReport).where(SessionReport.intervention_id == intervention.id,
                                                        SessionReport.trainer_id == trainer.id))
    if report is None:
        report = SessionReport(intervention_id=intervention.id, trainer_id=trainer.id, author_id=author.id,
                               created_at=now, updated_at=now, editable_until=now + EDIT_WINDOW, **values)
        report.topics = topics
        session.add(report)
        session.flush()
        record_event(session, intervention.request, author, "report_filed", now,
                     f"{intervention.group_label} — {trainer.full_name}", intervention)
    else:
        before = report_snapshot(report)
        # Conditional on the lock: a correction racing the deadline loses, never slips through.
        result = session.execute(update(SessionReport)
                                 .where(SessionReport.id == report.id, SessionReport.editable_until > now)
                                 .values(updated_at=now, **values).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise Refused("report_closed")
        session.refresh(report)
        report.topics = topics
        session.flush()
        _record_corrections(session, report, before, author, now)
    _settle_session(session, intervention, now)
    return report


def correct_report(session: Session, report: SessionReport, data: ReportData, actor: User,
                   now: datetime) -> SessionReport:
    """The coordination corrects a report of its scope, locked or not; each changed field is kept with who
    changed it and when, and the session's status and people reached follow."""
    values = _values(data)
    intervention = report.intervention
    lock_sessions(session, [intervention.id])
    before = report_snapshot(report)
    for name, value in values.items():
        setattr(report, name, value)
    report.topics = [session.get(Topic, code) for code in data.topic_codes]
    report.updated_at = now
    session.flush()
    if _record_corrections(session, report, before, actor, now):
        record_event(session, intervention.request, actor, "report_corrected", now,
                     f"{intervention.group_label} — {report.trainer.full_name}", intervention)
    _settle_session(session, intervention, now)
    return report


def report_snapshot(report: SessionReport) -> dict[str, str | None]:
    """The report's fields as text, to compare before and after a change (topics by code, in order)."""
    values = {name: getattr(report, name) for name in REPORT_FIELDS if name != "topics"}
    values["topics"] = ",".join(topic.code for topic in report.topics)
    return {name: None if values[name] is None or values[name] == "" else str(values[name])
            for name in REPORT_FIELDS}


def _record_corrections(session: Session, report: SessionReport, before: dict, actor: User,
                        now: datetime) -> int:
    after = report_snapshot(report)
    changed = [name for name in REPORT_FIELDS if before[name] != after[name]]
    for name in changed:
        session.add(ReportCorrection(report_id=report.id, at=now, actor_id=actor.id, field=name,
                                     old_value=before[name], new_value=after[name]))
    return len(changed)


def _settle_session(session: Session, intervention: Intervention, now: datetime) -> None:
    """Done when any report says it was held, not held when every report says it was not; the people
    reached are the largest count among the reports saying it was held."""
    held_reports, people = session.execute(
        select(func.count(SessionReport.id), func.max(SessionReport.people_present))
        .where(SessionReport.intervention_id == intervention.id, SessionReport.held)).one()
    target = InterventionStatus.DONE if held_reports else InterventionStatus.NOT_HELD
    people = people if held_reports else None
    session.execute(update(Intervention)
                    .where(Intervention.id == intervention.id, Intervention.status.in_(REPORTABLE),
                           (Intervention.status != target) | Intervention.people_reached.is_distinct_from(people))
                    .values(status=target, people_reached=people, updated_at=now)
                    .execution_options(synchronize_session=False))
    session.refresh(intervention)
    recompute_request_status(session, intervention.request, now)


def reopen(session: Session, report: SessionReport, admin: User, now: datetime) -> None:
    report.editable_until = now + EDIT_WINDOW
    report.reopened_by_id = admin.id
    record_event(session, report.intervention.request, admin, "report_reopened", now,
                 f"{report.intervention.group_label} — {report.trainer.full_name}", report.intervention)


def reports_due(session: Session, trainer_id: int, now: datetime, limit: int | None = None) -> list[Intervention]:
    """The trainer's ended sessions still waiting for their report, oldest first (the first `limit` of them)."""
    return list(session.scalars(
        _due(trainer_id, now).options(joinedload(Intervention.request).joinedload(InterventionRequest.establishment))
        .order_by(Intervention.starts_at, Intervention.id).limit(limit)))


def reports_due_count(session: Session, trainer_id: int, now: datetime) -> int:
    return session.scalar(_due(trainer_id, now).with_only_columns(func.count(Intervention.id)))


def _due(trainer_id: int, now: datetime):
    return (select(Intervention).join(Assignment, Assignment.intervention_id == Intervention.id)
            .where(Assignment.trainer_id == trainer_id, Assignment.status == AssignmentStatus.ACCEPTED,
                   Intervention.status.in_(REPORTABLE), Intervention.ends_at <= now,
                   ~exists().where(SessionReport.intervention_id == Intervention.id,
                                   SessionReport.trainer_id == trainer_id)))
