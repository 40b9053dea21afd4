"""A person's own CalDAV calendar, connected from « Mon agenda », and the queue of writes to it (#19).

`CalendarConnection`: one per person, the server, the user name, the application password encrypted with the
key of the configuration (`RELAIS_CALDAV_KEY`), the calendar chosen, and how the last writes went.

`CalendarPush`: one row per (connection, session), ever: the latest state of that session to write there
(PUT of its iCalendar text, or DELETE), the worker's attempts, and the ETag and address of the copy last written
on the server, so that the next write is conditional (If-Match) and never overwrites silently what the person
changed in their calendar. A newer change replaces a pending one (its `version` goes up): nothing is doubled.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import utcnow
from app.models.base import db
from app.models.enums import enum_column


class ConnectionState(StrEnum):
    ACTIVE = "active"
    # The server refused the credentials, or the calendar is gone: nothing is written until the person
    # connects again (the changes wait in the queue).
    BROKEN = "broken"


class PushAction(StrEnum):
    PUT = "put"
    DELETE = "delete"


class PushStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    # The copy on the server changed since Relais wrote it (412): not overwritten until the person says so.
    CONFLICT = "conflict"
    # The server refused this event for good (a 4xx other than the ones above).
    FAILED = "failed"


class CalendarConnection(db.Model):
    __tablename__ = "caldav_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    server_url: Mapped[str] = mapped_column(String(500))
    username: Mapped[str] = mapped_column(String(200))
    # Fernet token of the application password: never shown again, never logged.
    password_encrypted: Mapped[str] = mapped_column(Text)
    calendar_url: Mapped[str] = mapped_column(String(1000))
    calendar_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[ConnectionState] = mapped_column(enum_column(ConnectionState, "caldav_connection_state"),
                                                   default=ConnectionState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]

    user = relationship("User")


class CalendarPush(db.Model):
    __tablename__ = "caldav_push"
    __table_args__ = (
        UniqueConstraint("connection_id", "intervention_id", name="one_row_per_session"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("action = 'delete' OR calendar IS NOT NULL", name="put_has_calendar"),
        Index("ix_caldav_push_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("caldav_connection.id", ondelete="CASCADE"))
    intervention_id: Mapped[int] = mapped_column(ForeignKey("intervention.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(80))
    action: Mapped[PushAction] = mapped_column(enum_column(PushAction, "caldav_push_action"))
    calendar: Mapped[str | None] = mapped_column(Text)
    status: Mapped[PushStatus] = mapped_column(enum_column(PushStatus, "caldav_push_status"),
                                               default=PushStatus.PENDING)
    # Raised by every new change: a worker records DONE only for the version it wrote.
    version: Mapped[int] = mapped_column(default=1)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The person chose to replace the copy they had changed: the next write is unconditional.
    forced: Mapped[bool] = mapped_column(default=False)
    # What the server answered for the copy Relais last wrote (None: nothing there yet).
    etag: Mapped[str | None] = mapped_column(String(255))
    href: Mapped[str | None] = mapped_column(String(1000))
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]

    connection = relationship("CalendarConnection")
    intervention = relationship("Intervention")
