"""Units (commissariats, brigades, MPF…): where trainers leave from. The coordination keeps those of its territory
up to date, one at a time here, many at once through the register import."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.establishments import locate
from app.domain.policies import TRAINERS, covers
from app.domain.refusals import Refused
from app.models import Force, Trainer, Unit, UnitKind, User


@dataclass(frozen=True)
class UnitInput:
    """What the form says. Without a postcode, an existing unit stays where it is."""

    name: str
    kind: UnitKind
    force: Force
    postcode: str | None = None
    commune_insee: str | None = None
    commune_name: str | None = None


def save_unit(session: Session, actor: User, unit: Unit | None, given: UnitInput) -> Unit:
    """Creates (`unit` None) or corrects a unit of the person's territory, placed at its commune's position.
    Refused outside the territory, when a trainer of another territory leaves from it (the description is theirs
    too), or when the name is taken; `CommuneError` when the commune cannot be told."""
    force = unit.force if unit is not None else given.force  # the trainers of a unit are of its force
    if unit is not None:
        outside = session.scalars(select(Trainer).where(Trainer.unit_id == unit.id)).all()
        if any(not TRAINERS.allows(actor, "edit", trainer) for trainer in outside):
            raise Refused("unit_shared_outside")
    name = given.name.strip()
    taken = session.scalar(select(Unit.id).where(Unit.name == name))
    if taken is not None and (unit is None or taken != unit.id):
        raise Refused("unit_name_taken")
    if unit is None or given.postcode:
        location = locate(session, given.postcode or "", given.commune_insee, given.commune_name)
        if not covers(actor, location.departement_code, force, undecided=False):
            raise Refused("unit_outside_scope")
        place = (location.departement_code, location.commune_name, location.latitude, location.longitude)
    else:
        place = (unit.departement_code, unit.commune_name, unit.latitude, unit.longitude)
    if unit is None:
        unit = Unit(force=force)
        session.add(unit)
    unit.name, unit.kind = name, given.kind
    unit.departement_code, unit.commune_name, unit.latitude, unit.longitude = place
    try:
        session.flush()
    except IntegrityError:  # the same name saved a moment ago by someone else
        raise Refused("unit_name_taken") from None
    return unit
