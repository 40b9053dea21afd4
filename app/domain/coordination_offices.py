"""Where answers about a session go: the coordination's address of its territory (département and force).

Invitations are sent from an address nobody reads; their ORGANIZER, and the Reply-To of the e-mails about a
session, is the coordination of the session's département and force, so that « Accepter » in a calendar, a
decline from Outlook or a reply by e-mail reaches a person. The national administration sets one address per
(département, force); where none is set, the address of the territory's first active coordinator (the lowest
id, so that every message names the same one) stands in, and failing that the sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.domain.calendar import Organizer
from app.domain.feeds import refresh_events_of_territory
from app.domain.policies import coordinators_covering
from app.models import CoordinationOffice, CoordinatorScope, Departement, Force, Intervention, Role, User
from app.models.base import insert_for

FORCE_NAMES = {Force.POLICE: "police nationale", Force.GENDARMERIE: "gendarmerie nationale"}
# Where an organizer's address comes from, as the administration page says it.
OFFICE, COORDINATOR, SENDER = "office", "coordinator", "sender"


def default_name(departement_label: str, force: Force | str | None) -> str:
    """« Coordination police nationale — 69 – Rhône »: what calendars show beside the address."""
    force_name = FORCE_NAMES.get(Force(force), "") if force else ""
    return f"Coordination {force_name} — {departement_label}".replace("  ", " ")


@dataclass(frozen=True)
class Answering:
    """Who answers for a territory: the organizer of its invitations, and where that address comes from."""

    organizer: Organizer
    source: str  # OFFICE, COORDINATOR or SENDER


# A feed of 500 sessions asks 500 times for a handful of territories: the answers are kept on the session until
# its next flush or the end of its transaction (when an office or a coordinator may have changed).
_KEPT = "relais.answering"


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def _forget_answers(session: Session, *_: object) -> None:
    session.info.pop(_KEPT, None)


def answering(session: Session, departement: Departement, force: Force | str | None, sender: str) -> Answering:
    """The configured office of (département, force), else its first active coordinator, else the sender."""
    force = Force(force) if force else None
    kept = session.info.setdefault(_KEPT, {})
    key = (departement.code, force, sender)
    if key not in kept:
        kept[key] = _answering(session, departement, force, sender)
    return kept[key]


def _answering(session: Session, departement: Departement, force: Force | None, sender: str) -> Answering:
    office = None if force is None else session.scalar(select(CoordinationOffice).where(
        CoordinationOffice.departement_code == departement.code, CoordinationOffice.force == force))
    name = default_name(departement.label, force)
    if office is not None:
        return Answering(Organizer(office.email, office.display_name or name), OFFICE)
    coordinators = coordinators_covering(session, departement.code, force)
    if coordinators:
        return Answering(Organizer(coordinators[0].email, name), COORDINATOR)
    return Answering(Organizer(parseaddr(sender)[1], name), SENDER)


def organizer_address(session: Session, intervention: Intervention, sender: str) -> Organizer:
    """The ORGANIZER of a session's invitations and the Reply-To of its e-mails."""
    departement = intervention.request.establishment.departement
    return answering(session, departement, intervention.force, sender).organizer


# -- the administration's table -------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeRow:
    departement_code: str
    departement_label: str
    force: Force
    office: CoordinationOffice | None
    answering: Answering


def office_table(session: Session, sender: str, departement_code: str | None = None) -> list[OfficeRow]:
    """Every (département, force) with its address, or what stands in for it, in three statements."""
    query = select(Departement).order_by(Departement.code)
    if departement_code:
        query = query.where(Departement.code == departement_code)
    departements = session.scalars(query).all()
    offices = {(o.departement_code, o.force): o for o in session.scalars(select(CoordinationOffice))}
    first_coordinator: dict[tuple[str, Force | None], User] = {}
    for scope, user in session.execute(
            select(CoordinatorScope, User).join(User, CoordinatorScope.user_id == User.id)
            .where(User.role == Role.COORDINATOR, User.active, User.activated_at.is_not(None))
            .order_by(User.id)):
        first_coordinator.setdefault((scope.departement_code, scope.force), user)
    _, sender_address = parseaddr(sender)
    rows = []
    for departement in departements:
        for force in Force:
            name = default_name(departement.label, force)
            office = offices.get((departement.code, force))
            candidates = [u for u in (first_coordinator.get((departement.code, force)),
                                      first_coordinator.get((departement.code, None))) if u is not None]
            if office is not None:
                stands = Answering(Organizer(office.email, office.display_name or name), OFFICE)
            elif candidates:
                stands = Answering(Organizer(min(candidates, key=lambda u: u.id).email, name), COORDINATOR)
            else:
                stands = Answering(Organizer(sender_address, name), SENDER)
            rows.append(OfficeRow(departement.code, departement.label, force, office, stands))
    return rows


def save_office(session: Session, *, departement_code: str, force: Force, email: str, display_name: str,
                actor: User | None, now: datetime) -> CoordinationOffice | None:
    """Sets (or, with an empty address, removes) the coordination's address of a territory. The territory's
    sessions are marked modified, so that the feeds rebuild their events with the new organizer."""
    session.info.pop(_KEPT, None)
    email, display_name = email.strip().lower(), " ".join(display_name.split())
    if not email:
        existing = session.scalar(select(CoordinationOffice).where(
            CoordinationOffice.departement_code == departement_code, CoordinationOffice.force == force))
        if existing is not None:
            session.delete(existing)
        refresh_events_of_territory(session, departement_code, force, now)
        return None
    values = dict(email=email, display_name=display_name, updated_at=now,
                  updated_by_id=actor.id if actor is not None else None)
    # One statement, so that two administrators saving the same territory at once both succeed (the last wins).
    statement = insert_for(session)(CoordinationOffice).values(departement_code=departement_code, force=force,
                                                                **values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[CoordinationOffice.departement_code, CoordinationOffice.force], set_=values))
    refresh_events_of_territory(session, departement_code, force, now)
    return session.scalar(select(CoordinationOffice).where(
        CoordinationOffice.departement_code == departement_code, CoordinationOffice.force == force)
        .execution_options(populate_existing=True))
