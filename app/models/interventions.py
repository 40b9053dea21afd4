"""Requests for prevention sessions, the sessions themselves, and the trainers assigned to them.

A request (`InterventionRequest`) is what an establishment asks for; it becomes one `Intervention`
per group. An `Assignment` links a trainer to an intervention: first as an offer, then accepted.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import utcnow
from app.models.base import db
from app.models.enums import Force, enum_column
from app.models.group_labels import GroupLabelType


class RequestStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_PLANNING = "in_planning"
    REFUSED = "refused"
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    DONE = "done"
    CANCELLED = "cancelled"


class InterventionStatus(StrEnum):
    TO_SCHEDULE = "to_schedule"  # waiting for a trainer and a time
    OFFERED = "offered"  # offers sent, waiting for answers
    CONFIRMED = "confirmed"  # every trainer needed has accepted
    DONE = "done"  # report filed
    NOT_HELD = "not_held"  # report says it did not take place
    CANCELLED = "cancelled"


class AssignmentStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


request_topic = Table(
    "request_topic",
    db.metadata,
    Column("request_id", ForeignKey("intervention_request.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_code", ForeignKey("topic.code"), primary_key=True),
)
request_audience = Table(
    "request_audience",
    db.metadata,
    Column("request_id", ForeignKey("intervention_request.id", ondelete="CASCADE"), primary_key=True),
    Column("audience_code", ForeignKey("audience.code"), primary_key=True),
)


class InterventionRequest(db.Model):
    __tablename__ = "intervention_request"
    __table_args__ = (
        Index("ix_intervention_request_scope", "departement_code", "force", "status"),
        # The request rules ask for more (1 to 30 groups, 3 to 300 people, a listed duration); the database
        # only refuses what no rule could ever allow, so that the rules can change without a migration.
        CheckConstraint("group_count >= 1", name="group_count_positive"),
        CheckConstraint("people_per_group >= 1", name="people_per_group_positive"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "request_status"), default=RequestStatus.DRAFT
    )
    # Copied from the establishment when submitted (and overridable by a coordinator), so that
    # queues filter on the request's own columns.
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"))
    force: Mapped[Force | None] = mapped_column(enum_column(Force, "force"))
    force_overridden: Mapped[bool] = mapped_column(default=False)
    group_count: Mapped[int] = mapped_column(default=1)
    people_per_group: Mapped[int] = mapped_column(default=25)
    duration_minutes: Mapped[int] = mapped_column(default=60)
    place: Mapped[str | None] = mapped_column(String(250))  # address when not the establishment's
    room: Mapped[str | None] = mapped_column(String(120))
    equipment: Mapped[str | None] = mapped_column(String(250))
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_phone: Mapped[str] = mapped_column(String(30))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    notes: Mapped[str | None] = mapped_column(Text)
    wants_two_trainers: Mapped[bool] = mapped_column(default=False)
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("intervention_request.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    establishment = relationship("Establishment")
    created_by = relationship("User", foreign_keys=[created_by_id])
    topics = relationship("Topic", secondary=request_topic, order_by="Topic.position")
    audiences = relationship("Audience", secondary=request_audience, order_by="Audience.position")
    windows: Mapped[list[RequestWindow]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestWindow.start_date"
    )
    interventions: Mapped[list[Intervention]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="Intervention.id"
    )
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestEvent.id"
    )


class RequestWindow(db.Model):
    """When the establishment can host the sessions: dates and times of day, local to the place."""

    __tablename__ = "request_window"
    __table_args__ = (
        CheckConstraint("start_date <= end_date", name="dates_in_order"),
        CheckConstraint("start_time < end_time", name="times_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("intervention_request.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date]
    start_time: Mapped[time]
    end_time: Mapped[time]

    request: Mapped[InterventionRequest] = relationship(back_populates="windows")


class RequestEvent(db.Model):
    """The visible history of a request: who did what, when, and why."""

    __tablename__ = "request_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("intervention_request.id", ondelete="CASCADE"), index=True)
    intervention_id: Mapped[int | None] = mapped_column(ForeignKey("intervention.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(500))

    request: Mapped[InterventionRequest] = relationship(back_populates="events")
    actor = relationship("User")


class Intervention(db.Model):
    """One session for one group; times are stored in UTC and shown in the place's zone."""

    __tablename__ = "intervention"
    __table_args__ = (
        Index("ix_intervention_scope", "departement_code", "force", "status"),
        # With the status and the id: the sessions of a period are counted and joined from the index alone.
        Index("ix_intervention_starts_at", "starts_at", "status", "id"),
        # The database itself refuses a session staffed beyond what it needs (two trainers racing for
        # the last place): acceptances raise this counter with a conditional update.
        CheckConstraint("accepted_count >= 0 AND accepted_count <= trainers_needed", name="accepted_within_needed"),
        # A session's time is set whole: start and end together (an offer, an assignment, a move).
        CheckConstraint("(starts_at IS NULL AND ends_at IS NULL) "
                        "OR (starts_at IS NOT NULL AND ends_at IS NOT NULL AND starts_at < ends_at)",
                        name="times_in_order"),
        CheckConstraint("trainers_needed IN (1, 2)", name="one_or_two_trainers"),
        CheckConstraint("people_reached IS NULL OR people_reached >= 0", name="people_reached_not_negative"),
        CheckConstraint("ical_sequence >= 0", name="ical_sequence_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("intervention_request.id", ondelete="CASCADE"), index=True)
    # « Groupe 2 »: stored in French, printed in the language of the page or e-mail (app.models.group_labels).
    group_label: Mapped[str] = mapped_column(GroupLabelType(120))
    status: Mapped[InterventionStatus] = mapped_column(
        enum_column(InterventionStatus, "intervention_status"), default=InterventionStatus.TO_SCHEDULE
    )
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"))
    force: Mapped[Force | None] = mapped_column(enum_column(Force, "force"))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    trainers_needed: Mapped[int] = mapped_column(default=1)
    accepted_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when the cascade of offers gave up: the session is back in the coordinator's hands.
    attention_reason: Mapped[str | None] = mapped_column(String(300))
    attention_at: Mapped[datetime | None]
    # First time every trainer needed had accepted: from then on, calendars know the session.
    confirmed_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # People reached, kept from the reports (the largest count among those saying it was held) so that the
    # statistics sum one column instead of grouping every report of the year.
    people_reached: Mapped[int | None]
    # iCalendar identity: a stable UID and a SEQUENCE raised on every change (RFC 5545).
    ical_uid: Mapped[str] = mapped_column(String(80), unique=True, default=lambda: f"{uuid.uuid4()}@relais")
    ical_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    request: Mapped[InterventionRequest] = relationship(back_populates="interventions")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="intervention", cascade="all, delete-orphan", order_by="Assignment.id"
    )
    feedback: Mapped[Feedback | None] = relationship(back_populates="intervention", cascade="all, delete-orphan")
    reports: Mapped[list[SessionReport]] = relationship(back_populates="intervention", cascade="all, delete-orphan",
                                                        order_by="SessionReport.id")


class Assignment(db.Model):
    """A trainer on an intervention: an offer until answered, then accepted (or not)."""

    __tablename__ = "assignment"
    __table_args__ = (
        # With the session: a trainer's sessions in a status are read from the index alone (roster, workloads).
        Index("ix_assignment_trainer_status", "trainer_id", "status", "intervention_id"),
        Index("ix_assignment_status_expires", "status", "expires_at"),
        # A trainer holds at most one live offer or acceptance per session.
        Index("uq_assignment_live", "intervention_id", "trainer_id", unique=True,
              sqlite_where=text("status IN ('offered', 'accepted')"),
              postgresql_where=text("status IN ('offered', 'accepted')")),
        CheckConstraint("distance_km IS NULL OR distance_km >= 0", name="distance_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("intervention.id", ondelete="CASCADE"), index=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("trainer.id"))
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_column(AssignmentStatus, "assignment_status"), default=AssignmentStatus.OFFERED
    )
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    # Kept when the assignment is later withdrawn: the trainer's calendar must then hear of it.
    accepted_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Travel estimate at offer time, shown to the trainer.
    distance_km: Mapped[float | None]

    intervention: Mapped[Intervention] = relationship(back_populates="assignments")
    trainer = relationship("Trainer")

    @classmethod
    def open_offer(cls, now: datetime) -> ColumnElement[bool]:
        """An offer its trainer may still answer. Past its deadline it is closed, whether or not the expiry job
        (`flask tick`, every few minutes) has marked it yet: no page offers an answer it would refuse."""
        return and_(cls.status == AssignmentStatus.OFFERED, cls.expires_at > now)


class Feedback(db.Model):
    """The requester's opinion of one session: once per session, editable for a week."""

    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("intervention.id", ondelete="CASCADE"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    satisfaction: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    intervention: Mapped[Intervention] = relationship(back_populates="feedback")
    author = relationship("User")


report_topic = Table(
    "report_topic",
    db.metadata,
    Column("report_id", ForeignKey("session_report.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_code", ForeignKey("topic.code"), primary_key=True),
)


class SessionReport(db.Model):
    """A trainer's account of a session after it: held or not, who was there, what was covered.

    Correctable by its trainer until `editable_until` (30 days), then locked; an admin can reopen it, the
    coordination of the session corrects it at any time (each change kept as a `ReportCorrection`)."""

    __tablename__ = "session_report"
    __table_args__ = (
        UniqueConstraint("intervention_id", "trainer_id"),
        CheckConstraint("people_present IS NULL OR people_present >= 0", name="people_not_negative"),
        CheckConstraint("(pupils IS NULL OR pupils >= 0) AND (staff IS NULL OR staff >= 0) "
                        "AND (parents IS NULL OR parents >= 0)", name="breakdown_not_negative"),
        # A report the statistics can count: held with the people reached, or not held with a listed reason.
        CheckConstraint("(held AND people_present IS NOT NULL) OR (NOT held AND not_held_code IS NOT NULL)",
                        name="complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("intervention.id", ondelete="CASCADE"), index=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("trainer.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    held: Mapped[bool]
    not_held_code: Mapped[str | None] = mapped_column(String(30))  # app.domain.reports.NOT_HELD_REASONS
    not_held_reason: Mapped[str | None] = mapped_column(String(300))  # the trainer's own words, optional
    people_present: Mapped[int | None]
    pupils: Mapped[int | None]
    staff: Mapped[int | None]
    parents: Mapped[int | None]
    remarks: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    editable_until: Mapped[datetime]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    intervention: Mapped[Intervention] = relationship(back_populates="reports")
    trainer = relationship("Trainer")
    author = relationship("User", foreign_keys=[author_id])
    topics = relationship("Topic", secondary=report_topic, order_by="Topic.position")
    corrections: Mapped[list[ReportCorrection]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportCorrection.id")


class ReportCorrection(db.Model):
    """One field of a report changed after it was filed: who, when, from what to what."""

    __tablename__ = "report_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("session_report.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)

    report: Mapped[SessionReport] = relationship(back_populates="corrections")
    actor = relationship("User")
