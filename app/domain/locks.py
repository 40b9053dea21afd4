"""The order in which a change locks rows, the same everywhere, so that two changes never wait for each other:

    the sessions (by id) → their assignments → the trainers → the request.

A change that will touch a row later in the order than one it locks first takes the earlier ones up front
(`lock_sessions`); the request comes last (`lock_request`, when its status is recomputed from its sessions).
Row locks are PostgreSQL's SELECT … FOR UPDATE; SQLite runs one writer at a time, where they change nothing.
A deadlock the database still detects (an order this module did not foresee) is retried by the unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Intervention, InterventionRequest


def lock_sessions(session: Session, intervention_ids: Iterable[int]) -> None:
    """Locks these sessions' rows, in id order, until the transaction ends."""
    ids = sorted(set(intervention_ids))
    if ids:
        session.execute(select(Intervention.id).where(Intervention.id.in_(ids)).order_by(Intervention.id)
                        .with_for_update())


def lock_sessions_of(session: Session, request_id: int) -> None:
    """Locks every session of a request, before a change of the request that reaches its sessions."""
    session.execute(select(Intervention.id).where(Intervention.request_id == request_id).order_by(Intervention.id)
                    .with_for_update())


def lock_request(session: Session, request_id: int) -> None:
    """Locks the request's row: what follows reads its sessions as committed by anyone before."""
    session.execute(select(InterventionRequest.id).where(InterventionRequest.id == request_id).with_for_update())
