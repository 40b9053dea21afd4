"""A counter raised by every transaction that changes what the statistics count (see app.domain.revisions)."""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, CheckConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import db


class StatisticsRevision(db.Model):
    __tablename__ = "statistics_revision"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("revision >= 0", name="revision_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # a single row, id 1
    revision: Mapped[int] = mapped_column(BigInteger, default=0)


# The single row exists as soon as the table does: the migration inserts it, and so does create_all (tests,
# benchmarks). Without it, nothing could tell a cached figure from a stale one.
event.listen(StatisticsRevision.__table__, "after_create",
             DDL("INSERT INTO statistics_revision (id, revision) VALUES (1, 0)"))
