"""The coordination keeps the places of its territory up to date: establishments' details, and units."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Establishment, EstablishmentKind, Force, Role, Unit, UnitKind
from tests.factories import make_commune, make_coordinator, make_establishment, make_request, make_trainer, make_user
from tests.helpers import login, post_form, switch_to

SCHOOL = {"kind": "college", "name": "Collège Jean-Moulin", "identifier": "0690001B",
          "address": "12, rue de la République", "phone": "04 72 00 00 00"}


def test_the_coordination_corrects_an_establishment_of_its_territory(app, client, clock):
    school = make_establishment("69", force=Force.POLICE)
    item = make_request(school, status="submitted")
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    url = f"/coordination/etablissements/{school.id}/modifier"
    assert url in client.get(f"/coordination/demandes/{item.id}").get_data(as_text=True)
    assert school.name in client.get("/coordination/etablissements").get_data(as_text=True)
    done = post_form(client, f"{url}?retour_demande={item.id}", {**SCHOOL, "saturday_classes": "y"})
    assert done.status_code == 302 and done.location.endswith(f"/coordination/demandes/{item.id}")
    db.session.expire_all()
    assert (school.name, school.uai, school.address, school.phone, school.saturday_classes) == (
        "Collège Jean-Moulin", "0690001B", "12, rue de la République", "04 72 00 00 00", True)
    assert school.commune_insee and school.departement_code == "69"  # the territory stays


def test_corrections_are_refused_in_french_next_to_their_fields(app, client, clock):
    school = make_establishment("69", force=Force.POLICE)
    other = make_establishment("69", force=Force.POLICE)
    other.uai = "0690002C"
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    url = f"/coordination/etablissements/{school.id}/modifier"
    empty = post_form(client, url, {**SCHOOL, "name": " ", "address": "", "identifier": "1234"})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 400
    assert "Indiquez le nom." in html and "Indiquez l'adresse." in html and "Code UAI manquant ou invalide" in html
    taken = post_form(client, url, {**SCHOOL, "identifier": "0690002C"})
    assert taken.status_code == 400
    assert "Un autre établissement est déjà inscrit avec cet identifiant" in taken.get_data(as_text=True)
    db.session.expire_all()
    assert school.uai != "0690002C"


def test_establishments_and_units_of_another_territory_stay_out_of_reach(app, client, clock):
    theirs = make_establishment("13", force=Force.GENDARMERIE)
    their_trainer = make_trainer("13", Force.GENDARMERIE)
    coordinator = make_coordinator("69", Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=theirs.id)
    db.session.commit()
    login(client, coordinator)
    assert client.get(f"/coordination/etablissements/{theirs.id}/modifier").status_code == 404
    assert client.get(f"/coordination/unites/{their_trainer.unit_id}/modifier").status_code == 404
    assert theirs.name not in client.get("/coordination/etablissements").get_data(as_text=True)
    assert their_trainer.unit.name not in client.get("/coordination/unites").get_data(as_text=True)
    switch_to(client, requester)
    assert client.get("/coordination/unites").status_code == 403
    assert client.get(f"/coordination/etablissements/{theirs.id}/modifier").status_code == 403


def test_the_coordination_creates_and_corrects_a_unit(app, client, clock):
    make_commune("69259", "Vénissieux", postcode="69200")
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    listing = client.get("/coordination/unites").get_data(as_text=True)
    assert "/coordination/unites/nouvelle" in listing
    form = client.get("/coordination/unites/nouvelle").get_data(as_text=True)
    assert "Gendarmerie nationale" not in form  # a police coordinator creates police units
    missing = post_form(client, "/coordination/unites/nouvelle", {"name": "", "kind": "commissariat",
                                                                   "force": "police", "postcode": ""})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 400
    assert "Indiquez le nom de l'unité." in html and "Indiquez le code postal de la commune de l'unité." in html
    made = post_form(client, "/coordination/unites/nouvelle", {"name": "Commissariat de Vénissieux",
                                                                "kind": "commissariat", "force": "police",
                                                                "postcode": "69200"})
    assert made.status_code == 302
    unit = db.session.scalar(select(Unit).where(Unit.name == "Commissariat de Vénissieux"))
    assert (unit.force, unit.kind, unit.departement_code, unit.commune_name) == (
        Force.POLICE, UnitKind.COMMISSARIAT, "69", "Vénissieux")
    assert "Commissariat de Vénissieux" in client.get("/coordination/unites").get_data(as_text=True)
    # Corrected without a postcode: the unit stays where it is.
    fixed = post_form(client, f"/coordination/unites/{unit.id}/modifier", {"name": "Commissariat de Vénissieux-Centre",
                                                                           "kind": "commissariat"})
    assert fixed.status_code == 302
    db.session.expire_all()
    assert (unit.name, unit.commune_name) == ("Commissariat de Vénissieux-Centre", "Vénissieux")


def test_a_unit_is_refused_outside_the_territory_or_under_a_name_taken(app, client, clock):
    make_commune("13055", "Marseille", postcode="13001")
    trainer = make_trainer("69", Force.POLICE)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    outside = post_form(client, "/coordination/unites/nouvelle", {"name": "Commissariat de Marseille",
                                                                   "kind": "commissariat", "force": "police",
                                                                   "postcode": "13001"})
    assert outside.status_code == 400 and "pas dans votre périmètre" in outside.get_data(as_text=True)
    taken = post_form(client, "/coordination/unites/nouvelle", {"name": trainer.unit.name, "kind": "commissariat",
                                                                 "force": "police", "postcode": "69001"})
    assert taken.status_code == 400 and "Une autre unité porte déjà ce nom" in taken.get_data(as_text=True)
    assert db.session.scalar(select(Unit).where(Unit.name == "Commissariat de Marseille")) is None


def test_a_unit_shared_with_another_territory_is_not_changed_by_one_coordination(app, client, clock):
    trainer = make_trainer("69", Force.POLICE)
    elsewhere = make_trainer("13", Force.POLICE)
    elsewhere.unit = trainer.unit  # a trainer of the Bouches-du-Rhône leaves from the same unit
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    refused = post_form(client, f"/coordination/unites/{trainer.unit_id}/modifier", {"name": "Autre nom",
                                                                                     "kind": "commissariat"})
    assert refused.status_code == 400 and "Des formateurs d&#39;une autre coordination" in refused.get_data(
        as_text=True)


def test_an_establishment_kind_is_kept_as_chosen(app, client, clock):
    school = make_establishment("69", force=Force.POLICE)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    post_form(client, f"/coordination/etablissements/{school.id}/modifier",
              {**SCHOOL, "kind": "company", "identifier": "73282932000074"})
    assert db.session.get(Establishment, school.id).kind is EstablishmentKind.COMPANY


def test_the_establishments_come_by_name_a_page_at_a_time(app, client, clock, monkeypatch):
    monkeypatch.setattr("app.coordination.places.PAGE_SIZE", 2)
    names = ["Lycée Ampère", "Collège Bellecour", "Collège Ampère", "Lycée du Parc", "Collège Ampère"]
    for name in names:
        make_establishment("69", force=Force.POLICE).name = name
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    seen, url = [], "/coordination/etablissements"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r'<th scope="row">([^<]+)</th>', html)
        following = re.search(r'href="([^"]+)" rel="next"', html)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert seen == sorted(names)
    found = client.get("/coordination/etablissements?nom=amp").get_data(as_text=True)
    assert re.findall(r'<th scope="row">([^<]+)</th>', found) == ["Collège Ampère", "Collège Ampère"]
    assert 'rel="next"' in found and "nom=amp" in found
