"""Where an establishment is, and who is competent there: commune, département, force, position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.changes import Change
from app.domain.feeds import refresh_events_of_establishment
from app.domain.invitation_updates import establishment_renamed_or_moved
from app.domain.policies import ESTABLISHMENTS
from app.domain.reference import departement_for_commune, departements_by_code
from app.domain.refusals import Refused
from app.models import (
    CommuneCompetence,
    Establishment,
    EstablishmentKind,
    Force,
    InterventionRequest,
    JoinRequest,
    JoinStatus,
    Role,
    User,
)


class CommuneError(ValueError):
    """The commune cannot be determined; the message (French) says what to do."""

    def __init__(self, message, choices: list[CommuneCompetence] | None = None):
        super().__init__(message)
        self.message = message
        self.choices = choices or []


@dataclass(frozen=True)
class Location:
    insee_code: str
    commune_name: str
    departement_code: str
    force: Force | None  # None: the commune is missing from the table, a coordinator decides
    latitude: float
    longitude: float


def communes_for_postcode(session: Session, postcode: str) -> list[CommuneCompetence]:
    """Communes of the competence table served by a postcode (main or secondary)."""
    postcode = postcode.strip()
    return list(session.scalars(
        select(CommuneCompetence)
        .where(or_(CommuneCompetence.postcode == postcode, CommuneCompetence.postcodes.contains(postcode)))
        .order_by(CommuneCompetence.name)
    ))


def locate(session: Session, postcode: str, insee_code: str | None, commune_name: str | None) -> Location:
    """The commune from its INSEE code, or from the postcode when it designates one commune.

    A commune missing from the competence table is accepted with its name, without a force.
    """
    insee = (insee_code or "").strip().upper()
    if not insee:
        choices = communes_for_postcode(session, postcode)
        if len(choices) == 1:
            insee = choices[0].insee_code
        elif choices:
            raise CommuneError(_l("Plusieurs communes ont ce code postal : choisissez la vôtre."), choices)
        else:
            raise CommuneError(_l("Aucune commune connue pour ce code postal : indiquez le code INSEE de la commune."))
    try:
        departement_code = departement_for_commune(insee)
    except ValueError:
        raise CommuneError(_l("Le code INSEE d'une commune compte 5 caractères (par exemple 69123).")) from None
    departement = departements_by_code().get(departement_code)
    if departement is None:
        raise CommuneError(_l("Le département %(code)s n'est pas couvert par Relais.", code=departement_code))
    commune = session.get(CommuneCompetence, insee)
    if commune is None:
        if not (commune_name or "").strip():
            raise CommuneError(_l("Cette commune n'est pas dans la table de compétence : indiquez son nom."))
        return Location(insee, commune_name.strip(), departement_code, None,
                        departement.latitude, departement.longitude)
    latitude = commune.latitude if commune.latitude is not None else departement.latitude
    longitude = commune.longitude if commune.longitude is not None else departement.longitude
    return Location(insee, commune.name, departement_code, commune.force, latitude, longitude)


# -- registering an establishment ---------------------------------------------------------------------


def existing_establishment(session: Session, uai: str | None, siret: str | None) -> Establishment | None:
    """The establishment already registered with this UAI or SIRET, if any."""
    conditions = [Establishment.uai == uai] if uai else []
    conditions += [Establishment.siret == siret] if siret else []
    return session.scalar(select(Establishment).where(or_(*conditions))) if conditions else None


def register_establishment(session: Session, actor: User, *, kind: EstablishmentKind, name: str, uai: str | None,
                           siret: str | None, address: str, postcode: str, commune_insee: str | None,
                           commune_name: str | None, phone: str | None, now: datetime,
                           saturday_classes: bool = False) -> Establishment:
    """A requester registers their establishment and becomes its first member. Refused when it is registered
    already (even by someone else a moment ago: the identifiers are unique); `CommuneError` when the commune
    cannot be told from the postcode."""
    if existing_establishment(session, uai, siret) is not None:
        raise Refused("establishment_exists")
    location = locate(session, postcode, commune_insee, commune_name)
    establishment = Establishment(
        kind=kind, name=name.strip(), uai=uai, siret=siret, address=address.strip(), postcode=postcode,
        commune_name=location.commune_name, commune_insee=location.insee_code,
        departement_code=location.departement_code, latitude=location.latitude, longitude=location.longitude,
        force=location.force, phone=(phone or "").strip() or None, saturday_classes=saturday_classes,
        created_at=now)
    session.add(establishment)
    try:
        session.flush()
    except IntegrityError:
        raise Refused("establishment_exists") from None
    actor.establishment_id = establishment.id
    return establishment


def correct_details(session: Session, establishment: Establishment, actor: User, now: datetime, *,
                    kind: EstablishmentKind, name: str, uai: str | None, siret: str | None, address: str,
                    phone: str | None, saturday_classes: bool) -> Change:
    """The coordination of its territory corrects an establishment: kind, name, identifier, address, telephone,
    Saturday classes. The commune stays: it decides the territory. Refused when another establishment has the
    identifier. Calendars say where anew when the name or the address changes."""
    other = existing_establishment(session, uai, siret)
    if other is not None and other.id != establishment.id:
        raise Refused("establishment_identifier_taken")
    change = edit_details(session, establishment, now, name=name, address=address, phone=phone,
                          saturday_classes=saturday_classes)
    establishment.kind, establishment.uai, establishment.siret = kind, uai, siret
    try:
        session.flush()
    except IntegrityError:  # the same identifier saved a moment ago by someone else
        raise Refused("establishment_identifier_taken") from None
    return change


def edit_details(session: Session, establishment: Establishment, now: datetime, *, name: str, address: str,
                 phone: str | None, saturday_classes: bool) -> Change:
    """Name, address, telephone, Saturday classes (by its members or the coordination). A new name or address
    reaches the calendars: feeds rebuild the events, and everyone invited to a session still to come gets an
    update saying where it now is."""
    name, address = name.strip(), address.strip()
    change = establishment_renamed_or_moved(session, establishment, name, address, now)
    if (name, address) != (establishment.name, establishment.address):
        refresh_events_of_establishment(session, establishment.id, now)
    establishment.name, establishment.address = name, address
    establishment.phone = (phone or "").strip() or None
    establishment.saturday_classes = saturday_classes
    return change


# -- confirming a registration ---------------------------------------------------------------------------


def registrations_to_confirm(user: User) -> Select:
    """Establishments of the person's territory registered by their first member and not yet confirmed."""
    return select(Establishment).where(Establishment.confirmed_at.is_(None), ESTABLISHMENTS.rows(user))


def confirm_registration(session: Session, establishment: Establishment, actor: User, now: datetime) -> None:
    """The coordination checked the establishment and its first member: they may now send requests and let
    colleagues in. Refused when decided already."""
    confirmed = session.execute(
        update(Establishment).where(Establishment.id == establishment.id, Establishment.confirmed_at.is_(None))
        .values(confirmed_at=now, confirmed_by_id=actor.id).execution_options(synchronize_session=False)).rowcount
    if confirmed != 1:
        raise Refused("registration_decided")
    session.refresh(establishment)


def refuse_registration(session: Session, establishment: Establishment, actor: User) -> list[User]:
    """Not an establishment (or not this person's): its members are detached, its drafts, pending join
    requests and the registration itself removed, so that its identifier is free for the real one. Returns the
    people to tell. Refused once it is confirmed."""
    locked = session.execute(
        update(Establishment).where(Establishment.id == establishment.id, Establishment.confirmed_at.is_(None))
        .values(confirmed_by_id=actor.id).execution_options(synchronize_session=False)).rowcount
    if locked != 1:
        raise Refused("registration_decided")
    members = list(session.scalars(select(User).where(User.establishment_id == establishment.id)))
    for member in members:
        member.establishment_id = None
    for draft in session.scalars(select(InterventionRequest).where(
            InterventionRequest.establishment_id == establishment.id)):
        session.delete(draft)  # drafts only: nothing could be sent before the confirmation
    session.flush()
    session.execute(delete(JoinRequest).where(JoinRequest.establishment_id == establishment.id))
    session.execute(delete(Establishment).where(Establishment.id == establishment.id))
    return members


def require_confirmed(establishment: Establishment) -> None:
    """What only a confirmed establishment may do (send a request, let someone in)."""
    if not establishment.is_confirmed:
        raise Refused("establishment_unconfirmed")


# -- joining an establishment -----------------------------------------------------------------------------


def _approver_in(establishment_id):
    """Someone can approve newcomers: the establishment is confirmed and has an active, activated member."""
    return and_(
        exists().where(Establishment.id == establishment_id, Establishment.confirmed_at.is_not(None)),
        exists().where(User.establishment_id == establishment_id, User.active, User.password_hash.is_not(None),
                       User.activated_at.is_not(None)))


def has_approver(session: Session, establishment_id: int) -> bool:
    return session.scalar(select(_approver_in(establishment_id)))


def approvers_of(establishment: Establishment) -> list[User]:
    """The members who decide who joins; none while the establishment waits for its confirmation."""
    if not establishment.is_confirmed:
        return []
    return [member for member in establishment.members if member.is_active]


def without_approver():
    """The condition on `Establishment` that nobody there can approve a newcomer (the coordination does)."""
    return ~_approver_in(Establishment.id)


def orphan_join_requests(user: User) -> Select:
    """Pending requests to join an establishment of the person's territory where nobody can decide: the
    coordination decides them."""
    return (select(JoinRequest).join(Establishment, Establishment.id == JoinRequest.establishment_id)
            .where(JoinRequest.status == JoinStatus.PENDING, ESTABLISHMENTS.rows(user), without_approver()))


def decide_join(session: Session, join_request: JoinRequest, decider: User, approve: bool, now: datetime
                ) -> JoinStatus:
    """Approves or refuses a pending request to join; refused when it was decided already (by someone else a
    moment ago). An approval finding the newcomer attached elsewhere meanwhile becomes a refusal: an account
    belongs to one establishment. A member decides only for a confirmed establishment. The caller tells the
    newcomer."""
    if decider.role is Role.REQUESTER:
        require_confirmed(join_request.establishment)
    if approve:
        attached = session.execute(
            update(User).where(User.id == join_request.user_id, User.establishment_id.is_(None),
                               User.role == Role.REQUESTER)
            .values(establishment_id=join_request.establishment_id)
            .execution_options(synchronize_session=False)).rowcount
        approve = attached == 1
    status = JoinStatus.APPROVED if approve else JoinStatus.REFUSED
    decided = session.execute(
        update(JoinRequest)
        .where(JoinRequest.id == join_request.id, JoinRequest.status == JoinStatus.PENDING)
        .values(status=status, decided_at=now, decided_by_id=decider.id)
        .execution_options(synchronize_session=False)).rowcount
    if decided != 1:
        raise Refused("join_decided")
    session.refresh(join_request)
    session.refresh(join_request.user)
    return status
