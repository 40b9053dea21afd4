"""The demo data set: deterministic, complete, valid identifiers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.domain.identifiers import is_valid_siret, is_valid_uai
from app.extensions import db
from app.models import Establishment, EstablishmentKind, Force, Role, Trainer, User
from tests.factories import build_demo
from tests.helpers import empty_tables

TODAY = date(2026, 11, 30)


def _snapshot() -> list[tuple]:
    users = db.session.execute(select(User.email, User.full_name, User.role).order_by(User.id)).all()
    establishments = db.session.execute(
        select(Establishment.name, Establishment.uai, Establishment.siret, Establishment.latitude,
               Establishment.force).order_by(Establishment.id)).all()
    trainers = db.session.execute(
        select(Trainer.matricule, Trainer.force, Trainer.last_refresher_on, Trainer.max_distance_km)
        .order_by(Trainer.id)).all()
    return [tuple(row) for row in (*users, *establishments, *trainers)]


def _reset() -> None:
    empty_tables()


def test_same_seed_same_data_other_seed_other_data(app):
    build_demo(11, TODAY)
    db.session.commit()
    first = _snapshot()
    _reset()
    build_demo(11, TODAY)
    db.session.commit()
    assert _snapshot() == first
    _reset()
    build_demo(12, TODAY)
    db.session.commit()
    assert _snapshot() != first


def test_demo_has_every_role_kind_and_force_with_valid_identifiers(app):
    result = build_demo(3, TODAY)
    db.session.commit()
    assert {account.role for account in result.accounts} == {"admin", "coordinator", "trainer", "requester"}
    roles = set(db.session.scalars(select(User.role).distinct()))
    assert roles == set(Role)
    kinds = set(db.session.scalars(select(Establishment.kind).distinct()))
    assert kinds >= {EstablishmentKind.COLLEGE, EstablishmentKind.LYCEE, EstablishmentKind.COMPANY,
                     EstablishmentKind.HIGHER_EDUCATION}
    assert set(db.session.scalars(select(Trainer.force).distinct())) == {Force.POLICE, Force.GENDARMERIE}
    for establishment in db.session.scalars(select(Establishment)):
        if establishment.kind.uses_uai:
            assert is_valid_uai(establishment.uai), establishment.uai
        if establishment.kind.uses_siret:
            assert is_valid_siret(establishment.siret), establishment.siret
    departements = set(db.session.scalars(select(Establishment.departement_code).distinct()))
    assert "974" in departements and "2A" in departements  # overseas and Corsica are part of the demo


def test_demo_data_command_prints_logins_and_refuses_a_full_database(app, runner):
    result = runner.invoke(args=["demo-data", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "admin@relais.demo" in result.output and "Prevention-Relais-2026" in result.output
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code != 0 and "n'est pas vide" in again.output
    quiet = runner.invoke(args=["demo-data", "--if-empty"])
    assert quiet.exit_code == 0 and "admin@relais.demo" in quiet.output
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "admin@relais.demo")) == 1
