"""Personal data kept no longer than needed (RGPD, issue #21): the retention periods as data, the warnings of
accounts left unused, and the correction requests people send from « Mes données »."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import utcnow
from app.models.base import db

# kind → (value, unit) of the defaults written in docs/rgpd.md; the migration and create_all insert them.
RETENTION_DEFAULTS: dict[str, tuple[int, str]] = {
    "request_contacts": (3, "years"),
    "feedback_comments": (3, "years"),
    "unused_accounts": (24, "months"),
    "unused_accounts_warning": (30, "days"),
    "departed_trainers": (12, "months"),
    "audit_trail": (12, "months"),
}
RETENTION_UNITS = ("years", "months", "days")


class RetentionSetting(db.Model):
    """How long one kind of personal data is kept: one row per kind, changed by the national administration."""

    __tablename__ = "retention_setting"
    __table_args__ = (
        CheckConstraint("value >= 1", name="retention_positive"),
        CheckConstraint("unit IN ('years', 'months', 'days')", name="retention_unit"),
    )

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int]
    unit: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


def _seed_statement() -> str:
    rows = ", ".join(f"('{kind}', {value}, '{unit}')" for kind, (value, unit) in RETENTION_DEFAULTS.items())
    return f"INSERT INTO retention_setting (kind, value, unit) VALUES {rows}"  # noqa: S608 (this module's constants)


# The defaults exist as soon as the table does (the migration inserts them too): the jobs always have a period.
event.listen(RetentionSetting.__table__, "after_create", DDL(_seed_statement()))


class InactivityWarning(db.Model):
    """An account unused for the retention period was warned (once per period of inactivity: `last_activity` is
    the moment it was last used); it is deactivated after the warning period unless it is used again."""

    __tablename__ = "inactivity_warning"
    __table_args__ = (UniqueConstraint("user_id", "last_activity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    last_activity: Mapped[datetime]
    warned_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]


class CorrectionRequest(db.Model):
    """A person asked for their data to be corrected (right of rectification, art. 16 RGPD): what they wrote, when,
    and to whom it was sent."""

    __tablename__ = "correction_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    recipients: Mapped[str] = mapped_column(Text)  # the addresses it was sent to, comma-separated
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")
