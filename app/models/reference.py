"""Reference vocabularies managed as data: topics and audiences."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import db


class Topic(db.Model):
    __tablename__ = "topic"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_fr: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    # Audiences for which the topic deserves a warning (comma-separated audience codes).
    caution_audiences: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Audience(db.Model):
    __tablename__ = "audience"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_fr: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    # pupils, students, adults: drives which fields a request form shows.
    category: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
