"""Loads the reference tables shipped in app/data into the database (idempotent upsert)."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.orm import Session

from app.domain.reference import load_departements
from app.models import Audience, Departement, Topic

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _rows(filename: str) -> list[dict[str, str]]:
    with (DATA_DIR / filename).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def sync_reference_data(session: Session) -> dict[str, int]:
    """Creates or updates départements, topics and audiences; returns how many of each exist."""
    for info in load_departements():
        session.merge(Departement(code=info.code, name=info.name, region=info.region, academie=info.academie,
                                  holiday_zone=info.holiday_zone, prefecture=info.prefecture, timezone=info.timezone,
                                  latitude=info.latitude, longitude=info.longitude))
    topics = _rows("topics.csv")
    for row in topics:
        session.merge(Topic(code=row["code"], label_fr=row["label_fr"], label_en=row["label_en"],
                            position=int(row["position"]), caution_audiences=row["caution_audiences"]))
    audiences = _rows("audiences.csv")
    for row in audiences:
        session.merge(Audience(code=row["code"], label_fr=row["label_fr"], label_en=row["label_en"],
                               category=row["category"], position=int(row["position"])))
    session.flush()
    return {"departements": len(load_departements()), "topics": len(topics), "audiences": len(audiences)}
