"""Each log-in, on one device: a server-side identity that log-out, a password change or the person ends.

The browser keeps a random token (in the signed session cookie, and in the "remember me" cookie when asked); the
table keeps only its SHA-256, so that a copy of the database logs nobody in. The rules (lifetimes, idle timeout,
ending them) are in app.domain.login_sessions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import db


class LoginSession(db.Model):
    __tablename__ = "login_session"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_creation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # A fingerprint of the password hash at log-in: a new password ends the sessions opened with the old one.
    credential: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # Written at most every few minutes (app.domain.login_sessions.TOUCH_EVERY), not on every request.
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    remember: Mapped[bool] = mapped_column(default=False)
    # For the person's own list of their sessions ("Mes sessions"): the browser and the address it came from.
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(45), default="")
    revoked_at: Mapped[datetime | None]

    user = relationship("User")
