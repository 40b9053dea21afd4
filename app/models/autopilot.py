"""The autopilot (continuous planning, issue #20): each coordination scope's mode, the proposal waiting for a
coordinator's click, why a session could not be served, and when a person last looked at their home."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import utcnow
from app.models.base import db
from app.models.enums import Force, enum_column


class AutopilotMode(StrEnum):
    MANUAL = "manual"  # the coordination plans and sends everything itself (before the autopilot)
    PROPOSED = "proposed"  # Relais prepares the offers, a coordinator sends them in one click
    AUTOMATIC = "automatic"  # Relais sends them


DEFAULT_MODE = AutopilotMode.PROPOSED


class AutopilotSetting(db.Model):
    """The mode of one coordination scope (département × force), chosen by its coordinators. No row: the default
    mode. The row is also what a `tick` locks (SKIP LOCKED) while it plans the scope."""

    __tablename__ = "autopilot_setting"

    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"), primary_key=True)
    force: Mapped[Force] = mapped_column(enum_column(Force, "force"), primary_key=True)
    mode: Mapped[AutopilotMode] = mapped_column(enum_column(AutopilotMode, "autopilot_mode"),
                                                default=DEFAULT_MODE, server_default=DEFAULT_MODE.value)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # The last time a tick planned the scope, and what it planned from (`autopilot.inputs_fingerprint`): a tick
    # that finds the same inputs has nothing new to plan and skips the solver.
    planned_at: Mapped[datetime | None]
    planned_inputs: Mapped[str | None] = mapped_column(String(64))
    # The audit trail's newest entry when those inputs were last read (app.domain.scope_changes): a tick the same
    # day that finds no newer entry concerning the scope does not read them again.
    inputs_read_through: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class AutopilotProposal(db.Model):
    """The offers Relais prepared for a scope in "proposed" mode, waiting for a coordinator: one per scope,
    prepared again by each tick when the plan changes (`fingerprint`)."""

    __tablename__ = "autopilot_proposal"
    __table_args__ = (UniqueConstraint("departement_code", "force"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"))
    force: Mapped[Force] = mapped_column(enum_column(Force, "force"))
    prepared_at: Mapped[datetime] = mapped_column(default=utcnow)
    fingerprint: Mapped[str] = mapped_column(String(64))

    departement = relationship("Departement")
    items: Mapped[list[AutopilotProposalItem]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="AutopilotProposalItem.id")


class AutopilotProposalItem(db.Model):
    """One offer of a proposal: this trainer, for this session, at that time."""

    __tablename__ = "autopilot_proposal_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("autopilot_proposal.id", ondelete="CASCADE"), index=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("intervention.id", ondelete="CASCADE"), index=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("trainer.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    km: Mapped[float] = mapped_column(Float, default=0.0)

    proposal: Mapped[AutopilotProposal] = relationship(back_populates="items")
    intervention = relationship("Intervention")
    trainer = relationship("Trainer")


class AutopilotNote(db.Model):
    """Why the autopilot could not serve a session at its last try (a French text marked with N_)."""

    __tablename__ = "autopilot_note"

    intervention_id: Mapped[int] = mapped_column(ForeignKey("intervention.id", ondelete="CASCADE"),
                                                 primary_key=True)
    reason: Mapped[str] = mapped_column(String(300))
    noted_at: Mapped[datetime] = mapped_column(default=utcnow)

    intervention = relationship("Intervention")


class HomeVisit(db.Model):
    """When a person last looked at their home page: what the autopilot did "since your last visit" starts at
    `since`, the visit before the current one (a visit lasts while the page is seen again within the hour)."""

    __tablename__ = "home_visit"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    since: Mapped[datetime]
    seen_at: Mapped[datetime]
