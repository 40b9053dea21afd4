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


def make_assigned_session(trainer: Trainer, starts_at, minutes: int = 60, *, status: str = "accepted",
                          establishment: Establishment | None = None, distance_km: float | None = None):
    """An intervention at an establishment with the trainer assigned (accepted by default, or offered)."""
    from app.models import Assignment, AssignmentStatus, Intervention, InterventionRequest, InterventionStatus

    departement_code = trainer.departements[0].code
    establishment = establishment or make_establishment(departement_code, force=trainer.force)
    creator = make_user(Role.REQUESTER)
    request = InterventionRequest(establishment_id=establishment.id, created_by_id=creator.id,
                                  departement_code=departement_code, force=trainer.force,
                                  contact_name="Contact", contact_phone="01 02 03 04 05")
    intervention = Intervention(request=request, group_label="Classe de 4e A", departement_code=departement_code,
                                force=trainer.force, starts_at=starts_at,
                                ends_at=starts_at + timedelta(minutes=minutes),
                                status=InterventionStatus.CONFIRMED,
                                accepted_count=1 if status == "accepted" else 0)
    intervention.assignments.append(Assignment(trainer_id=trainer.id, status=AssignmentStatus(status),
                                               distance_km=distance_km,
                                               accepted_at=utcnow() if status == "accepted" else None))
    intervention.confirmed_at = utcnow() if status == "accepted" else None
    db.session.add(intervention)
    db.session.flush()
    return intervention


def make_commune(insee: str = "69123", name: str = "Lyon", force: Force = Force.POLICE, postcode: str = "69001",
                 postcodes: str | None = None):
    from app.models import CommuneCompetence

    commune = CommuneCompetence(insee_code=insee, name=name, departement_code=insee[:3] if insee.startswith("97")
                                else insee[:2], force=force, postcode=postcode, postcodes=postcodes or postcode)
    db.session.add(commune)
    db.session.flush()
    return commune


def make_request(establishment: Establishment | None = None, requester: User | None = None, *,
                 status: str = "draft", start: date | None = None, days: int = 5, group_count: int = 2,
                 audiences: tuple[str, ...] = ("4e",), topics: tuple[str, ...] = ("cannabis",), **extra):
    """A request created through the life cycle up to `status` (draft, submitted, in_planning, refused)."""
    from datetime import time

    from app.domain import lifecycle
    from app.models import Audience, InterventionRequest, RequestWindow, Topic

    establishment = establishment or make_establishment()
    requester = requester or make_user(Role.REQUESTER, establishment_id=establishment.id)
    start = start or date(2027, 1, 11)
    now = utcnow()
    item = InterventionRequest(establishment_id=establishment.id, created_by_id=requester.id,
                               departement_code=establishment.departement_code, force=establishment.force,
                               group_count=group_count, people_per_group=25, duration_minutes=60,
                               contact_name=requester.full_name, contact_phone="04 78 00 00 00", **extra)
    item.audiences = [db.session.get(Audience, code) for code in audiences]
    item.topics = [db.session.get(Topic, code) for code in topics]
    item.windows = [RequestWindow(start_date=start, end_date=start + timedelta(days=days - 1),
                                  start_time=time(8, 0), end_time=time(12, 0))]
    db.session.add(item)
    lifecycle.record_creation(db.session, item, requester, now)
    if status != "draft":
        lifecycle.submit(db.session, item, requester, now)
    if status in ("in_planning", "refused"):
        coordinator = make_coordinator(establishment.departement_code, establishment.force)
        if status == "in_planning":
            lifecycle.accept(db.session, item, coordinator, now)
        else:
            lifecycle.refuse(db.session, item, coordinator, "Pas de formateur disponible", now)
    db.session.flush()
    return item
