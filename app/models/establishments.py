"""Schools, universities, workplaces and other places that request sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import utcnow
from app.models.base import db
from app.models.enums import Force, enum_column


class EstablishmentKind(StrEnum):
    COLLEGE = "college"
    LYCEE = "lycee"
    LYCEE_PRO = "lycee_pro"
    HIGHER_EDUCATION = "higher_education"
    COMPANY = "company"
    ADMINISTRATION = "administration"
    ASSOCIATION = "association"
    OTHER = "other"

    @property
    def is_school(self) -> bool:
        """Schools follow the school-holiday calendar and are identified by a UAI."""
        return self in {EstablishmentKind.COLLEGE, EstablishmentKind.LYCEE, EstablishmentKind.LYCEE_PRO}

    @property
    def uses_uai(self) -> bool:
        return self.is_school or self is EstablishmentKind.HIGHER_EDUCATION

    @property
    def uses_siret(self) -> bool:
        return self in {EstablishmentKind.COMPANY, EstablishmentKind.ASSOCIATION}


class Establishment(db.Model):
    __tablename__ = "establishment"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EstablishmentKind] = mapped_column(enum_column(EstablishmentKind, "establishment_kind"))
    name: Mapped[str] = mapped_column(String(200))
    uai: Mapped[str | None] = mapped_column(String(8), unique=True)
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    address: Mapped[str] = mapped_column(String(250))
    postcode: Mapped[str] = mapped_column(String(5))
    commune_name: Mapped[str] = mapped_column(String(120))
    commune_insee: Mapped[str] = mapped_column(String(5), index=True)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # Competent force from the territorial table; NULL when the commune is unknown.
    force: Mapped[Force | None] = mapped_column(enum_column(Force, "force"))
    phone: Mapped[str | None] = mapped_column(String(30))
    # Saturday is a day a session can be held only where the establishment says it works then (some lycées).
    saturday_classes: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A self-registered establishment is confirmed by the coordination of its territory before its first member
    # may send requests, invite or approve colleagues (NULL: waiting).
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", use_alter=True))

    departement = relationship("Departement", lazy="joined")
    members = relationship("User", back_populates="establishment", foreign_keys="User.establishment_id")

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def identifier(self) -> str | None:
        return self.uai or self.siret

    @property
    def timezone(self) -> str:
        return self.departement.timezone

    @property
    def holiday_zone(self) -> str | None:
        return self.departement.holiday_zone


class JoinStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class JoinRequest(db.Model):
    """A person asks to join an existing establishment; a current member approves or refuses."""

    __tablename__ = "join_request"
    # One pending request per person at a time (a partial unique index on both databases).
    __table_args__ = (
        Index("uq_join_request_pending_user", "user_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    status: Mapped[JoinStatus] = mapped_column(enum_column(JoinStatus, "join_status"), default=JoinStatus.PENDING)
    message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    establishment = relationship("Establishment")
    user = relationship("User", foreign_keys=[user_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
