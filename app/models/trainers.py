"""PFAD and FRAD trainers, their units, qualifications and availability."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import utcnow
from app.models.base import db
from app.models.enums import Force, enum_column

# A refresher course is due every two years (domain.md).
CERTIFICATION_VALIDITY_DAYS = 730


class UnitKind(StrEnum):
    DDPN = "ddpn"
    DIPN = "dipn"
    COMMISSARIAT = "commissariat"
    GROUPEMENT = "groupement"
    COMPAGNIE = "compagnie"
    BRIGADE = "brigade"
    MPF = "mpf"
    BPDJ = "bpdj"


class Unit(db.Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    force: Mapped[Force] = mapped_column(enum_column(Force, "force"))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"), index=True)
    commune_name: Mapped[str] = mapped_column(String(120))
    latitude: Mapped[float]
    longitude: Mapped[float]


trainer_departement = Table(
    "trainer_departement",
    db.metadata,
    Column("trainer_id", ForeignKey("trainer.id", ondelete="CASCADE"), primary_key=True),
    Column("departement_code", ForeignKey("departement.code"), primary_key=True, index=True),
)
trainer_topic = Table(
    "trainer_topic",
    db.metadata,
    Column("trainer_id", ForeignKey("trainer.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_code", ForeignKey("topic.code"), primary_key=True),
)
trainer_audience = Table(
    "trainer_audience",
    db.metadata,
    Column("trainer_id", ForeignKey("trainer.id", ondelete="CASCADE"), primary_key=True),
    Column("audience_code", ForeignKey("audience.code"), primary_key=True),
)


class Trainer(db.Model):
    __tablename__ = "trainer"
    __table_args__ = (
        UniqueConstraint("force", "matricule"),
        # As the limits form and the register import allow them: 1 <= per week <= per month, at least 1 km.
        CheckConstraint("max_sessions_per_week >= 1", name="weekly_limit_positive"),
        CheckConstraint("max_sessions_per_week <= max_sessions_per_month", name="week_within_month"),
        CheckConstraint("max_distance_km >= 1", name="distance_positive"),
        CheckConstraint("last_refresher_on IS NULL OR last_refresher_on >= initial_training_on",
                        name="refresher_after_initial_training"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    force: Mapped[Force] = mapped_column(enum_column(Force, "force"))
    rank: Mapped[str] = mapped_column(String(60))
    matricule: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    initial_training_on: Mapped[date]
    last_refresher_on: Mapped[date | None]
    max_sessions_per_week: Mapped[int] = mapped_column(default=4)
    # Raised by every acceptance: the row lock it takes serialises one trainer's bookings.
    bookings_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    max_sessions_per_month: Mapped[int] = mapped_column(default=12)
    max_distance_km: Mapped[int] = mapped_column(default=60)
    accepts_pair_work: Mapped[bool] = mapped_column(default=True)
    languages: Mapped[str] = mapped_column(String(120), default="français")
    active: Mapped[bool] = mapped_column(default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(200))
    # The day the trainer left the network (issue #21, RGPD): their record is archived then anonymised after the
    # retention period of app.domain.retention; `anonymised_at` says it was done.
    departed_on: Mapped[date | None]
    anonymised_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")
    departements = relationship("Departement", secondary=trainer_departement, order_by="Departement.code")
    topics = relationship("Topic", secondary=trainer_topic, order_by="Topic.position")
    audiences = relationship("Audience", secondary=trainer_audience, order_by="Audience.position")
    patterns: Mapped[list[AvailabilityPattern]] = relationship(
        back_populates="trainer", cascade="all, delete-orphan", order_by="AvailabilityPattern.weekday"
    )
    exceptions: Mapped[list[AvailabilityException]] = relationship(
        back_populates="trainer", cascade="all, delete-orphan", order_by="AvailabilityException.starts_at"
    )

    @property
    def certified_since(self) -> date:
        return self.last_refresher_on or self.initial_training_on

    @property
    def full_name(self) -> str:
        return self.user.full_name

    @property
    def display_name(self) -> str:
        """Rank and name, as an establishment is told who comes."""
        return f"{self.rank} {self.user.full_name}"


class AvailabilityPattern(db.Model):
    """A weekly recurring slot (local wall-clock time of the trainer's unit) valid for a period."""

    __tablename__ = "availability_pattern"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="times_in_order"),
        CheckConstraint("valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until",
                        name="validity_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("trainer.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]  # Monday = 0
    start_time: Mapped[time]
    end_time: Mapped[time]
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]

    trainer: Mapped[Trainer] = relationship(back_populates="patterns")


class ExceptionKind(StrEnum):
    UNAVAILABLE = "unavailable"
    EXTRA = "extra"


class AvailabilityException(db.Model):
    """A period off (leave, operations, training) or a one-off extra availability."""

    __tablename__ = "availability_exception"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="times_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("trainer.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ExceptionKind] = mapped_column(enum_column(ExceptionKind, "exception_kind"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(200))

    trainer: Mapped[Trainer] = relationship(back_populates="exceptions")
