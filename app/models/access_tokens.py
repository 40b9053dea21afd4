"""Personal access tokens of the JSON API (issue #22): named, scoped, expiring, revocable.

The person sees the token once, when it is made (`relais_pat_…`); the table keeps only its SHA-256 and a short
prefix shown in their list to tell tokens apart. The rules are in app.domain.access_tokens.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import db
from app.models.enums import enum_column


class TokenScope(StrEnum):
    READ = "read"
    READ_WRITE = "read_write"


class AccessToken(db.Model):
    __tablename__ = "access_token"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_creation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the token, not secret: how the person recognises it in their list.
    prefix: Mapped[str] = mapped_column(String(24))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[TokenScope] = mapped_column(enum_column(TokenScope, "access_token_scope"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Written at most once a minute (app.domain.access_tokens.TOUCH_EVERY).
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user = relationship("User")
