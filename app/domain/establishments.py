"""Where an establishment is, and who is competent there: commune, département, force, position."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.domain.reference import departement_for_commune, departements_by_code
from app.models import CommuneCompetence, Force


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
