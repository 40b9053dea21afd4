"""Builders for the objects tests need, with sensible defaults and a fast password hash."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from app.domain.clock import utcnow
from app.domain.passwords import hash_password
from app.extensions import db
from app.models import (
    CoordinatorScope,
    Departement,
    Establishment,
    EstablishmentKind,
    Force,
    Role,
    Trainer,
    Unit,
    UnitKind,
    User,
)

PASSWORD = "Vraiment-Secret-42"
_counter = itertools.count(1)
_fast_hash = hash_password(PASSWORD, "pbkdf2:sha256:1000")


def make_user(role: Role | str = Role.REQUESTER, *, email: str | None = None, full_name: str | None = None,
              activated: bool = True, **extra) -> User:
    number = next(_counter)
    user = User(email=email or f"personne{number}@exemple.fr", full_name=full_name or f"Personne {number}",
                role=Role(role), password_hash=_fast_hash if activated else None,
                activated_at=utcnow() if activated else None, **extra)
    db.session.add(user)
    db.session.flush()
    return user


def make_coordinator(departement_code: str = "69", force: Force | None = Force.POLICE, **extra) -> User:
    user = make_user(Role.COORDINATOR, **extra)
    user.scopes = [CoordinatorScope(departement_code=departement_code, force=force)]
    db.session.flush()
    return user


def make_establishment(departement_code: str = "69", kind: EstablishmentKind = EstablishmentKind.COLLEGE,
                       force: Force | None = Force.POLICE, **extra) -> Establishment:
    number = next(_counter)
    departement = db.session.get(Departement, departement_code)
    values = dict(kind=kind, name=f"Collège n°{number}", address=f"{number} rue de la République",
                  postcode="69001", commune_name="Lyon", commune_insee=f"{departement_code}123"[:5],
                  departement_code=departement_code, latitude=departement.latitude,
                  longitude=departement.longitude, force=force)
    values.update(extra)
    establishment = Establishment(**values)
    db.session.add(establishment)
    db.session.flush()
    return establishment


def make_unit(departement_code: str = "69", force: Force = Force.POLICE) -> Unit:
    number = next(_counter)
    departement = db.session.get(Departement, departement_code)
    unit = Unit(force=force, kind=UnitKind.DDPN if force is Force.POLICE else UnitKind.MPF,
                name=f"Unité {number}", departement_code=departement_code, commune_name=departement.name,
                latitude=departement.latitude, longitude=departement.longitude)
    db.session.add(unit)
    db.session.flush()
    return unit


def make_trainer(departement_code: str = "69", force: Force = Force.POLICE, *, certified_on: date | None = None,
                 user: User | None = None, **extra) -> Trainer:
    user = user or make_user(Role.TRAINER)
    trainer = Trainer(user=user, force=force, rank="Brigadier", matricule=str(500000 + next(_counter)),
                      unit=make_unit(departement_code, force),
                      initial_training_on=certified_on or (utcnow().date() - timedelta(days=100)), **extra)
    trainer.departements = [db.session.get(Departement, departement_code)]
    db.session.add(trainer)
    db.session.flush()
    return trainer
