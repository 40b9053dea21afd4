"""Subscribable calendar feeds and the cache of each session's serialized VEVENT."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import utcnow
from app.models.base import db


class CalendarFeed(db.Model):
    """A personal feed URL: of a user (trainer, coordinator) or of an establishment.

    The URL's token is an HMAC of `nonce` with the application's secret, so that the page can show
    it again; only its SHA-256 is used to find the feed, and a new nonce revokes the old URL at once.
    """

    __tablename__ = "calendar_feed"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (establishment_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id", ondelete="CASCADE"),
                                                         unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reset_at: Mapped[datetime | None]

    user = relationship("User")
    establishment = relationship("Establishment")


class CalendarEntry(db.Model):
    """A session's VEVENT as last serialized for one kind of reader in one language (its texts are the reader's);
    rebuilt when `version` changes."""

    __tablename__ = "calendar_entry"

    intervention_id: Mapped[int] = mapped_column(ForeignKey("intervention.id", ondelete="CASCADE"),
                                                 primary_key=True)
    variant: Mapped[str] = mapped_column(String(30), primary_key=True)
    language: Mapped[str] = mapped_column(String(5), primary_key=True)
    version: Mapped[str] = mapped_column(String(80))
    vevent: Mapped[str] = mapped_column(Text)
