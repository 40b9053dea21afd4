"""The coordination office of a territory (département and force): the address answers to invitations reach."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.clock import utcnow
from app.models.base import db
from app.models.enums import Force, enum_column


class CoordinationOffice(db.Model):
    """One address per (département, force), set by the national administration: the ORGANIZER of the sessions'
    invitations and the Reply-To of their e-mails, so that an answer from a calendar or a mail reaches a person."""

    __tablename__ = "coordination_office"
    __table_args__ = (UniqueConstraint("departement_code", "force"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"))
    force: Mapped[Force] = mapped_column(enum_column(Force, "force"))
    email: Mapped[str] = mapped_column(String(254))
    # The name calendars show beside the address; empty: « Coordination police nationale — 69 – Rhône ».
    display_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
