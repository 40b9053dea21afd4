"""Claiming due rows of a work queue (CalDAV pushes, webhook deliveries): the one way, so that workers running at
once never take the same row and a worker that dies leaves its rows to the next after a lease."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, update
from sqlalchemy.orm import Session

T = TypeVar("T")


def claim_rows(session: Session, due: Select, model: Any, now: datetime, lease: timedelta, sending: Any,
               read: Callable[[Any], T], unchanged: tuple[str, ...] = ("status", "attempts")) -> list[T]:
    """The rows of `due` (ordered, limited) that this worker won: each claimed by a conditional UPDATE (its id and
    `unchanged` columns as read) to `sending`, one more attempt, due again after `lease`; SKIP LOCKED on PostgreSQL
    so that parallel workers read different rows. Commits; returns `read(row)` of each, taken as the row was read
    (before the commit expires it)."""
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=model)
    won = []
    for row in session.scalars(due).all():
        result = session.execute(
            update(model)
            .where(model.id == row.id, *(getattr(model, name) == getattr(row, name) for name in unchanged))
            .values(status=sending, attempts=model.attempts + 1, next_attempt_at=now + lease)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            won.append(read(row))
    session.commit()
    return won
