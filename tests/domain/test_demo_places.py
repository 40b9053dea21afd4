"""A demo that looks real: each département knows its préfecture, the demo's places are real communes, and a place
is written once (« Collège Jules-Ferry — Villeurbanne », never « … — Rhône (préfecture) — Rhône (préfecture) »)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.domain.demo import DEMO_DEPARTEMENTS, demo_communes
from app.domain.reference import load_departements
from app.extensions import db
from app.models import CommuneCompetence, Departement, Establishment, Unit
from tests.factories import load_demo_data


def test_every_departement_names_its_prefecture_and_the_database_has_it(app):
    prefectures = {d.code: d.prefecture for d in load_departements()}
    assert len(prefectures) == 101 and all(prefectures.values())
    assert (prefectures["69"], prefectures["2A"], prefectures["91"], prefectures["974"], prefectures["976"]) == (
        "Lyon", "Ajaccio", "Évry-Courcouronnes", "Saint-Denis", "Mamoudzou")
    assert db.session.get(Departement, "33").prefecture == "Bordeaux"


def test_the_demo_places_people_in_real_communes_written_once(app):
    communes = demo_communes()
    prefectures = {d.code: d.prefecture for d in load_departements()}
    for code in DEMO_DEPARTEMENTS:
        assert communes[code][0][1] == prefectures[code], "the préfecture comes first"
        assert all(insee.startswith(code) for insee, *_ in communes[code])
    load_demo_data(seed=7, today=date(2026, 11, 30))
    names = set(db.session.scalars(select(CommuneCompetence.name)))
    assert {"Lyon", "Villeurbanne", "Marseille", "Saint-Pierre", "Paris 11e Arrondissement"} <= names
    assert not any("préfecture" in name for name in names)
    establishments = db.session.scalars(select(Establishment)).all()
    assert establishments and all(e.commune_name not in e.name for e in establishments), [
        e.name for e in establishments if e.commune_name in e.name][:5]
    assert {e.commune_name for e in establishments} <= {name for rows in communes.values() for _, name, *_ in rows}
    units = db.session.scalars(select(Unit).where(Unit.departement_code == "69")).all()
    assert units and {u.commune_name for u in units} == {"Lyon"}
