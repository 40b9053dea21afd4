"""Départements and the territorial competence of police and gendarmerie."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import db
from app.models.enums import Force, enum_column


class Departement(db.Model):
    __tablename__ = "departement"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(80))
    academie: Mapped[str] = mapped_column(String(80))
    holiday_zone: Mapped[str | None] = mapped_column(String(1))
    # The chef-lieu (« Lyon » for the Rhône): where the demo and the units of a département are, by default.
    prefecture: Mapped[str] = mapped_column(String(80), default="", server_default="")
    timezone: Mapped[str] = mapped_column(String(40))
    latitude: Mapped[float]
    longitude: Mapped[float]

    @property
    def label(self) -> str:
        return self.label_of(self.code, self.name)

    @staticmethod
    def label_of(code: str, name: str) -> str:
        return f"{code} – {name}"


class CommuneCompetence(db.Model):
    """One row of the ministry's table: which force is competent for a commune."""

    __tablename__ = "commune_competence"

    insee_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"), index=True)
    force: Mapped[Force] = mapped_column(enum_column(Force, "force"))
    service_id: Mapped[str | None] = mapped_column(String(40))
    service_name: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5), index=True)
    postcodes: Mapped[str | None] = mapped_column(String(200))
    # The ministry's file has no position; filled from another source when known (the demo does),
    # otherwise establishments fall back to the préfecture.
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
