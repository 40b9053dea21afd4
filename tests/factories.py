"""Builders for the objects and data tests need, with sensible defaults and a fast password hash.

Shared by every test module: a builder or a constant that two test files need lives here (HTTP, query and mail
helpers live in tests/helpers.py), never in a test module that another one imports.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from app.domain.clock import utcnow
from app.domain.eligibility import SessionNeed, TrainerProfile
from app.domain.offers import OfferSettings
from app.domain.passwords import hash_password
from app.extensions import db
from app.models import (
    Audience,
    CoordinatorScope,
    Departement,
    Establishment,
    EstablishmentKind,
    Force,
    Intervention,
    Role,
    Topic,
    Trainer,
    Unit,
    UnitKind,
    User,
)

PASSWORD = "Vraiment-Secret-42"
_counter = itertools.count(1)
FAST_HASH = "pbkdf2:sha256:1000"  # tests need no slow hash
_fast_hash = hash_password(PASSWORD, FAST_HASH)
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the second factor of the coordinators and admins of the tests


def encrypted_totp_secret(secret: str = TOTP_SECRET) -> str:
    """The secret as stored: encrypted with the application's key (app.domain.two_factor)."""
    from flask import current_app

    from app.domain import caldav_push, two_factor

    return two_factor.encrypt(secret, caldav_push.keys_from(current_app.config))


def make_user(role: Role | str = Role.REQUESTER, *, email: str | None = None, full_name: str | None = None,
              activated: bool = True, second_factor: bool | None = None, **extra) -> User:
    """`second_factor`: a TOTP secret enrolled (TOTP_SECRET); by default, for activated coordinators and admins."""
    number = next(_counter)
    if second_factor is None:
        second_factor = activated and Role(role) in (Role.COORDINATOR, Role.ADMIN)
    if second_factor:
        extra.setdefault("totp_secret", encrypted_totp_secret())
        extra.setdefault("totp_confirmed_at", utcnow())
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
                  longitude=departement.longitude, force=force, confirmed_at=utcnow())  # pass confirmed_at=None
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


# Offers and sessions in the Rhône (69), police: the common ground of the offer, calendar and web tests.
OFFER_SETTINGS = OfferSettings(expiry=timedelta(days=3), max_tries=3)
MONDAY_9 = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)  # Monday 11 January 2027, 9:00 in Lyon


def make_qualified_trainer(unit_km: float = 0.0, force: Force = Force.POLICE, **extra) -> Trainer:
    """A trainer of the Rhône who teaches cannabis to 4e, the theme and public of make_request's defaults."""
    trainer = make_trainer("69", force, **extra)
    trainer.topics = [db.session.get(Topic, "cannabis")]
    trainer.audiences = [db.session.get(Audience, "4e")]
    # Units are spread north of the establishment so that ranking by distance is predictable.
    trainer.unit.latitude += unit_km / 111
    return trainer


def make_session_in_planning(group_count: int = 1, **extra) -> Intervention:
    """The first session of a request accepted by the coordination (Rhône, police), waiting for a trainer."""
    establishment = make_establishment("69", force=Force.POLICE)
    make_coordinator("69", Force.POLICE)
    request = make_request(establishment, status="in_planning", group_count=group_count, **extra)
    db.session.flush()
    return request.interventions[0]


def make_session_to_rank() -> Intervention:
    """A request in planning (Rhône, police), committed; its first session."""
    establishment = make_establishment("69", force=Force.POLICE)
    make_request(establishment, status="in_planning")
    db.session.commit()
    return db.session.scalars(select(Intervention).order_by(Intervention.id)).first()


def make_offer(session_: Intervention, trainer: Trainer, now: datetime, start: datetime = MONDAY_9):
    """app.domain.offers.make_offer of an hour from `start`, with OFFER_SETTINGS; returns its change."""
    from app.domain import offers

    return offers.make_offer(db.session, session_, trainer, start, start + timedelta(hours=1), None, now,
                             OFFER_SETTINGS)


def make_confirmed_session(departement: str = "69", start: datetime = MONDAY_9):
    """A session assigned directly to a qualified trainer by a coordinator, committed:
    (intervention, trainer, coordinator)."""
    from app.domain import offers

    intervention = make_session_in_planning(contact_email="cpe@college.example") if departement == "69" else None
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69", Force.POLICE)
    offers.assign_directly(db.session, intervention, trainer, start, start + timedelta(hours=1), coordinator,
                           utcnow())
    db.session.commit()
    return intervention, trainer, coordinator


# Plain profiles for the eligibility and ranking rules (no database): a session in Lyon and a trainer who fits it.
LYON = (45.7640, 4.8357)
SESSION_NEED = SessionNeed(intervention_id=1, establishment_id=7, departement_code="69", force="police",
                           topic_codes=frozenset({"cannabis", "alcool"}), audience_codes=frozenset({"4e"}),
                           latitude=LYON[0], longitude=LYON[1], timezone="Europe/Paris")
TRAINER_PROFILE = TrainerProfile(trainer_id=3, active=True, force="police", departement_codes=frozenset({"69"}),
                                 topic_codes=frozenset({"cannabis", "alcool", "loi-sanctions"}),
                                 audience_codes=frozenset({"4e", "3e"}), certified_since=date(2026, 3, 1),
                                 max_distance_km=60, accepts_pair_work=True, latitude=45.75, longitude=4.85)


# The demo data set, for the tests that read it: built once per set of parameters, then copied row by row.
_demo_rows: dict[tuple, dict[str, list[dict]]] = {}


def build_demo(seed: int, today: date, **extra):
    """The demo data set as `flask demo-data` builds it (the morning's messages included), with a fast hash."""
    from flask import current_app

    from app.domain.caldav_push import keys_from
    from app.domain.demo import build_demo_data
    from app.jobs import write_messages

    extra.setdefault("caldav_keys", keys_from(current_app.config))  # the staff's second factor readable, as in the app
    return build_demo_data(db.session, seed=seed, scale="demo", today=today, password_hash_method=FAST_HASH,
                           write_messages=write_messages, **extra)


def load_demo_data(seed: int, today: date) -> None:
    """Fills the (empty) database with the demo data set (app.domain.demo, scale "demo", fast password hash),
    committed.

    The first call with these parameters builds it (about two seconds); the next ones insert the rows that build
    wrote, identifiers included (some 3,500 rows: a few hundredths of a second). The builder is deterministic
    (tests/domain/test_demo_data.py), so the copy is what a new build would write. Not for the tests of the
    builder itself, nor for one that needs what it returns."""
    from tests.helpers import KEPT_TABLES

    assert db.session.scalar(select(User.id).limit(1)) is None, "the demo data set goes into an empty database"
    key = (seed, today, db.engine.url.render_as_string())
    copied = [t for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
    rows = _demo_rows.get(key)
    if rows is None:
        reference = [t for t in db.metadata.sorted_tables if t.name in KEPT_TABLES and t.name != "statistics_revision"]
        before = _rows_of(reference)
        build_demo(seed, today)
        db.session.commit()
        # The copy leaves the reference tables as they are: it is faithful only if the build did too.
        assert _rows_of(reference) == before, "the demo build changed a reference table: copy it too"
        _demo_rows[key] = _rows_of(copied)
        return
    for table in copied:
        if rows[table.name]:
            db.session.execute(table.insert(), rows[table.name])
    if db.engine.dialect.name == "postgresql":
        # Explicit identifiers leave the sequences behind: move them on as the build's own inserts did.
        for table in copied:
            for column in table.primary_key.columns:
                sequence = db.session.scalar(select(func.pg_get_serial_sequence(f'"{table.name}"', column.name)))
                highest = db.session.scalar(select(func.max(column))) if sequence else None
                if highest is not None:
                    db.session.execute(select(func.setval(sequence, highest)))
    db.session.commit()


def _rows_of(tables) -> dict[str, list[dict]]:
    return {table.name: [dict(row._mapping) for row in
                         db.session.execute(select(table).order_by(*table.primary_key.columns))] for table in tables}


# Rows of the trainers' register (the import's columns), as a coordinator's file holds them.

ROSTER_ROW = {
    "force": "police", "matricule": "PN1001", "grade": "Brigadier", "nom": "Jean Dupont",
    "email": "jean.dupont@interieur.gouv.fr", "telephone": "04 00 00 00 01", "unite": "DDPN Rhône",
    "type_unite": "ddpn", "departement_unite": "69", "commune_unite": "Lyon", "latitude_unite": "45.76",
    "longitude_unite": "4.84", "departements": "69", "themes": "cannabis|alcool", "publics": "4e|3e",
    "formation_initiale": "2020-03-02", "dernier_recyclage": "2025-02-10", "max_seances_semaine": "3",
    "max_seances_mois": "10", "distance_max_km": "60", "binome": "oui", "langues": "français", "actif": "oui",
    "motif_inactivite": "",
}


def roster_row(trainer: Trainer | None = None, **changes: str) -> dict[str, str]:
    """A valid row of the register: the trainer's as the export writes it (or ROSTER_ROW's), with `changes`."""
    from app.domain.imports.trainers import trainer_row

    return {**(trainer_row(trainer) if trainer is not None else ROSTER_ROW), **changes}


def roster_csv(*rows: dict[str, str]) -> bytes:
    """The register as a UTF-8 CSV file, `;`-separated, written by the csv module alone (no neutralising)."""
    import csv
    import io

    from app.domain.imports.trainers import COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
