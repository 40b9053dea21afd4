"""When what an invitation shows changes without the time changing: the establishment's name or address, the
place, the room, the equipment or the contact of a request. Calendars built from e-mailed invitations never read
the feeds: everyone invited to a session still to come gets an update (same UID, SEQUENCE + 1) through the outbox,
and a contact who was replaced gets the CANCEL that takes the event out of their calendar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session, selectinload

from app.domain.changes import CalendarNotice, Change, record_event
from app.domain.refusals import Refused
from app.models import (
    Assignment,
    AssignmentStatus,
    Establishment,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    RequestStatus,
    Trainer,
    User,
)

# Requests whose practical details may still change once planned (before, the whole request can be edited).
DETAILS_EDITABLE = (RequestStatus.IN_PLANNING, RequestStatus.SCHEDULED, RequestStatus.CONFIRMED)
SHOWN_BY_INVITATIONS = ("place", "room", "equipment", "contact")


def reinvite(session: Session, condition: ColumnElement[bool], now: datetime, changed: Iterable[str],
             former_contacts: Iterable[str] = ()) -> Change:
    """The confirmed sessions matching `condition` that have not begun: SEQUENCE + 1, and an update to the
    trainers on each and to its contact; `former_contacts` get a CANCEL. Nothing when none is concerned."""
    ids = list(session.scalars(select(Intervention.id).where(
        condition, Intervention.status == InterventionStatus.CONFIRMED, Intervention.starts_at > now)
        .order_by(Intervention.id)))
    if not ids:
        return Change()
    session.execute(update(Intervention).where(Intervention.id.in_(ids))
                    .values(ical_sequence=Intervention.ical_sequence + 1, updated_at=now)
                    .execution_options(synchronize_session=False))
    sessions = session.scalars(
        select(Intervention).where(Intervention.id.in_(ids)).order_by(Intervention.id)
        .options(selectinload(Intervention.assignments).selectinload(Assignment.trainer).selectinload(Trainer.user))
        .execution_options(populate_existing=True)).all()
    changed, former = tuple(changed), tuple(dict.fromkeys(former_contacts))
    return Change(calendar=[
        CalendarNotice(intervention, "REQUEST",
                       tuple(a.trainer.user for a in intervention.assignments if a.status is AssignmentStatus.ACCEPTED),
                       contact=True, changed=changed, former_contacts=former)
        for intervention in sessions])


def establishment_renamed_or_moved(session: Session, establishment: Establishment, name: str, address: str,
                                   now: datetime) -> Change:
    """Call before saving a new name or address: the sessions still to come are sent again, where they now are."""
    changed = [part for part, differs in (("name", name != establishment.name),
                                          ("address", address != establishment.address)) if differs]
    if not changed:
        return Change()
    return reinvite(session, Intervention.request_id.in_(
        select(InterventionRequest.id).where(InterventionRequest.establishment_id == establishment.id)), now, changed)


@dataclass(frozen=True)
class PracticalDetails:
    """What an establishment may still change once its request is planned: where, with what, whom to call."""

    place: str | None
    room: str | None
    equipment: str | None
    contact_name: str
    contact_phone: str
    contact_email: str | None
    notes: str | None


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def _contact_address(request: InterventionRequest) -> str | None:
    """Where the contact's invitations go: their own address, else the author's."""
    return request.contact_email or (request.created_by.email if request.created_by else None)


def update_practical_details(session: Session, request: InterventionRequest, actor: User, details: PracticalDetails,
                             now: datetime) -> Change:
    """Changes the place, room, equipment, contact or notes of a planned request; the sessions still to come are
    sent again to everyone invited when what their invitation shows changed. Refused once the request is done or
    cancelled."""
    # The conditional update settles a race with a cancellation or the last report (status checked by the row).
    if session.execute(update(InterventionRequest).where(InterventionRequest.id == request.id,
                                                         InterventionRequest.status.in_(DETAILS_EDITABLE))
                       .values(updated_at=InterventionRequest.updated_at)
                       .execution_options(synchronize_session=False)).rowcount != 1:
        raise Refused("request_details_closed")
    def shown() -> dict:
        return {"place": request.place, "room": request.room, "equipment": request.equipment,
                "contact": (request.contact_name, request.contact_phone, request.contact_email),
                "notes": request.notes}

    before, old_address = shown(), _contact_address(request)
    request.place, request.room = _clean(details.place), _clean(details.room)
    request.equipment, request.notes = _clean(details.equipment), _clean(details.notes)
    request.contact_name = _clean(details.contact_name) or request.contact_name
    request.contact_phone = _clean(details.contact_phone) or request.contact_phone
    request.contact_email = _clean(details.contact_email)
    after = shown()
    if after == before:
        return Change()
    request.updated_at = now
    session.flush()
    record_event(session, request, actor, "details_changed", now)
    changed = [part for part in SHOWN_BY_INVITATIONS if before[part] != after[part]]
    if not changed:
        return Change()
    new_address = _contact_address(request)
    former = (old_address,) if old_address and old_address != new_address else ()
    return reinvite(session, Intervention.request_id == request.id, now, changed, former)

