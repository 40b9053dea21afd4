"""Sign-in security (issue #21): the recovery codes of the second factor, and the national sign-in setting.

The person's TOTP secret and their single sign-on identity are columns of `user_account` (app.models.accounts);
the rules are in app.domain.two_factor and app.domain.sso.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.clock import utcnow
from app.models.base import db


class RecoveryCode(db.Model):
    """One of the ten codes a person gets when enrolling the second factor: kept hashed, each accepted once."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class SignInSettings(db.Model):
    """The one row of the national sign-in settings, changed by an admin (no row: the defaults)."""

    __tablename__ = "sign_in_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1, autoincrement=False)
    # Coordinators and admins must sign in through single sign-on (their password is refused).
    sso_required_for_staff: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
