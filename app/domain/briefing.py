"""What a trainer reads before leaving for a session: where, who to ask for, with whom, and the report after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from app.domain.reports import is_locked, may_report
from app.models import Assignment, AssignmentStatus, Intervention, SessionReport, Trainer

OSM_DIRECTIONS = "https://www.openstreetmap.org/directions"
# Where a trainer on the session may be: offered it (deciding) or accepted it.
ON_THE_SESSION = (AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED)


@dataclass(frozen=True)
class Brief:
    intervention: Intervention
    assignment: Assignment  # the trainer's own offer or acceptance
    address: str
    directions_url: str
    co_trainers: list[Assignment]
    report: SessionReport | None
    may_report: bool
    report_locked: bool
    is_over: bool


def session_address(intervention: Intervention) -> str:
    """The place the request gives, else the establishment's postal address."""
    request = intervention.request
    if request.place:
        return request.place
    establishment = request.establishment
    return f"{establishment.address}, {establishment.postcode} {establishment.commune_name}"


def directions_url(intervention: Intervention) -> str:
    """An OpenStreetMap itinerary to the session: to the establishment's coordinates when the session is held
    there, else to the address the request gives (OpenStreetMap looks it up)."""
    establishment = intervention.request.establishment
    if not intervention.request.place and establishment.latitude is not None and establishment.longitude is not None:
        target = f"{establishment.latitude:.5f},{establishment.longitude:.5f}"
    else:
        target = session_address(intervention)
    return f"{OSM_DIRECTIONS}?{urlencode({'to': target}, quote_via=quote, safe=',')}"


def session_brief(intervention: Intervention, trainer: Trainer, now: datetime) -> Brief | None:
    """The trainer's view of a session they are offered or on; None when they are not (any more)."""
    mine = next((a for a in intervention.assignments
                 if a.trainer_id == trainer.id and a.status in ON_THE_SESSION), None)
    if mine is None:
        return None
    report = next((r for r in intervention.reports if r.trainer_id == trainer.id), None)
    return Brief(
        intervention=intervention, assignment=mine, address=session_address(intervention),
        directions_url=directions_url(intervention),
        co_trainers=[a for a in intervention.assignments if a.trainer_id != trainer.id and a.status in ON_THE_SESSION],
        report=report, may_report=may_report(intervention, trainer.id, now),
        report_locked=report is not None and is_locked(report, now),
        is_over=intervention.ends_at is not None and intervention.ends_at <= now)
