"""One page of the coordination's request queue, as plain rows: the queue is read on every view, national
lists included, and fifty requests loaded as objects with their establishment, windows and audiences cost
more than the rest of the page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from app.models import Audience, Establishment, Force, InterventionRequest, RequestStatus, RequestWindow
from app.models.interventions import request_audience


@dataclass(frozen=True)
class QueueRow:
    id: int
    status: RequestStatus
    departement_code: str
    force: Force | None
    group_count: int
    establishment_name: str
    audiences: tuple[Row, ...]  # code, label_fr, label_en, in the programme's order
    windows: tuple[Row, ...]  # start_date, end_date, earliest first


def queue_page(session: Session, requests: Select, *, after: int | None, limit: int, newest_first: bool = False
               ) -> tuple[list[QueueRow], int | None]:
    """The requests of `requests` (a select of InterventionRequest, filters applied), oldest first (or newest first:
    a requester's list), from the one after `after` (keyset: a deep page costs what the first one does); and the key
    of the next page."""
    query = (requests.with_only_columns(InterventionRequest.id, InterventionRequest.status,
                                        InterventionRequest.departement_code, InterventionRequest.force,
                                        InterventionRequest.group_count, Establishment.name)
             .join(Establishment, Establishment.id == InterventionRequest.establishment_id))
    if after:
        query = query.where(InterventionRequest.id < after if newest_first else InterventionRequest.id > after)
    order = InterventionRequest.id.desc() if newest_first else InterventionRequest.id
    found = session.execute(query.order_by(order).limit(limit + 1)).all()
    shown = found[:limit]
    ids = [row.id for row in shown]
    audiences: dict[int, list[Row]] = {}
    windows: dict[int, list[Row]] = {}
    if ids:
        for row in session.execute(
                select(request_audience.c.request_id, Audience.code, Audience.label_fr, Audience.label_en)
                .join(Audience, Audience.code == request_audience.c.audience_code)
                .where(request_audience.c.request_id.in_(ids)).order_by(Audience.position)):
            audiences.setdefault(row.request_id, []).append(row)
        for row in session.execute(
                select(RequestWindow.request_id, RequestWindow.start_date, RequestWindow.end_date)
                .where(RequestWindow.request_id.in_(ids)).order_by(RequestWindow.start_date, RequestWindow.id)):
            windows.setdefault(row.request_id, []).append(row)
    page = [QueueRow(row.id, row.status, row.departement_code, row.force, row.group_count, row.name,
                     tuple(audiences.get(row.id, ())), tuple(windows.get(row.id, ()))) for row in shown]
    return page, (page[-1].id if len(found) > limit else None)
