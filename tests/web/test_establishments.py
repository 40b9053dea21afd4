"""Registering an establishment (UAI/SIRET, commune, force), joining one, inviting colleagues."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from app.domain.identifiers import make_siret, make_uai
from app.extensions import db
from app.models import Establishment, Force, JoinRequest, JoinStatus, OutgoingMessage, Role, User
from tests.factories import make_commune, make_coordinator, make_establishment, make_user
from tests.helpers import post_form

URL = "/etablissement/nouveau"


def form(**changes) -> dict:
    values = {"kind": "college", "name": "Collège Jean-Moulin", "identifier": make_uai(690001),
              "address": "12 rue Victor-Hugo", "postcode": "69001", "commune_insee": "", "commune_name": "",
              "phone": ""}
    values.update(changes)
    return values


@pytest.fixture
def newcomer(app, logged_in):
    user = make_user(Role.REQUESTER)
    client = logged_in(user)
    return user, client


def test_create_a_school_from_its_postcode_with_force_and_position(newcomer):
    user, client = newcomer
    lyon = make_commune("69123", "Lyon", Force.POLICE, "69001")
    lyon.latitude, lyon.longitude = 45.76, 4.83
    db.session.commit()
    response = post_form(client, URL, form(identifier=make_uai(690001).lower()))
    assert response.status_code == 302, response.get_data(as_text=True)
    establishment = db.session.scalar(select(Establishment))
    assert (establishment.uai, establishment.commune_insee, establishment.commune_name,
            establishment.departement_code, establishment.force) == (make_uai(690001), "69123", "Lyon", "69",
                                                                      Force.POLICE)
    assert (establishment.latitude, establishment.longitude) == (45.76, 4.83)
    db.session.refresh(user)
    assert user.establishment_id == establishment.id
    assert client.get("/etablissement/").status_code == 200


def test_uai_and_siret_are_validated_with_french_messages(newcomer):
    _, client = newcomer
    make_commune()
    db.session.commit()
    uai = make_uai(690001)
    wrong_letter = uai[:7] + ("A" if uai[7] != "A" else "B")
    page = unescape(post_form(client, URL, form(identifier=wrong_letter)).get_data(as_text=True))
    assert "Code UAI invalide : 7 chiffres suivis de la lettre de contrôle" in page
    page = unescape(post_form(client, URL, form(identifier="")).get_data(as_text=True))
    assert "Indiquez le code UAI de l'établissement" in page
    siret = make_siret(12345678, 1)
    bad_siret = siret[:-1] + str((int(siret[-1]) + 1) % 10)
    page = unescape(post_form(client, URL, form(kind="company", name="Transports Martin", identifier=bad_siret)
                     ).get_data(as_text=True))
    assert "Numéro SIRET invalide : 14 chiffres dont le dernier est une clé de contrôle." in page
    assert db.session.scalar(select(Establishment)) is None
    ok = post_form(client, URL, form(kind="company", name="Transports Martin", identifier=siret))
    assert ok.status_code == 302
    assert db.session.scalar(select(Establishment.siret)) == siret


def test_several_communes_for_a_postcode_ask_to_choose_and_unknown_commune_has_no_force(newcomer):
    _, client = newcomer
    make_commune("69001", "Affoux", Force.GENDARMERIE, "69170")
    make_commune("69246", "Tarare", Force.GENDARMERIE, "69170")
    db.session.commit()
    page = unescape(post_form(client, URL, form(postcode="69170")).get_data(as_text=True))
    assert "Plusieurs communes ont ce code postal : choisissez la vôtre." in page
    assert "Tarare (69246)" in page
    # A commune missing from the competence table: accepted, the coordinator will decide the force.
    page = unescape(post_form(client, URL, form(postcode="69550", commune_insee="69999")).get_data(as_text=True))
    assert "Cette commune n'est pas dans la table de compétence : indiquez son nom." in page
    response = post_form(client, URL, form(postcode="69550", commune_insee="69999", commune_name="Nouvelle-Commune"))
    assert response.status_code == 302
    establishment = db.session.scalar(select(Establishment))
    assert establishment.force is None and establishment.departement_code == "69"
    assert establishment.latitude == pytest.approx(db.session.get(type(establishment.departement),
                                                                  "69").latitude)


def test_an_establishment_already_registered_must_be_joined(newcomer):
    _, client = newcomer
    make_establishment(uai=make_uai(690001))
    make_commune()
    db.session.commit()
    page = unescape(post_form(client, URL, form()).get_data(as_text=True))
    assert "Cet établissement est déjà inscrit sur Relais : demandez à le rejoindre" in page


def test_join_needs_the_approval_of_a_member(app, client, logged_in):
    establishment = make_establishment(uai=make_uai(690002))
    member = make_user(Role.REQUESTER, establishment_id=establishment.id)
    newcomer = make_user(Role.REQUESTER)
    db.session.commit()
    logged_in(newcomer)
    response = post_form(client, "/etablissement/rejoindre", {"identifier": make_uai(690002), "message": "CPE"})
    assert response.status_code == 302
    join = db.session.scalar(select(JoinRequest))
    assert join.status is JoinStatus.PENDING
    db.session.refresh(newcomer)
    assert newcomer.establishment_id is None  # nothing visible before approval
    assert client.get("/demandes/").status_code == 302
    assert db.session.scalar(select(OutgoingMessage.recipient).where(
        OutgoingMessage.subject.contains("rejoindre"))) == member.email
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    logged_in(member)
    page = unescape(client.get("/etablissement/").get_data(as_text=True))
    assert newcomer.full_name in page
    response = post_form(client, f"/etablissement/demandes/{join.id}/accepter", {}, page="/etablissement/")
    assert response.status_code == 302
    db.session.refresh(newcomer)
    db.session.refresh(join)
    assert newcomer.establishment_id == establishment.id and join.status is JoinStatus.APPROVED
    again = post_form(client, f"/etablissement/demandes/{join.id}/refuser", {}, page="/etablissement/")
    assert again.status_code == 302
    db.session.refresh(join)
    assert join.status is JoinStatus.APPROVED


def test_a_member_cannot_decide_for_another_establishment(app, client, logged_in):
    mine = make_establishment()
    other = make_establishment(uai=make_uai(690003))
    member = make_user(Role.REQUESTER, establishment_id=mine.id)
    newcomer = make_user(Role.REQUESTER)
    db.session.add(JoinRequest(establishment_id=other.id, user_id=newcomer.id))
    db.session.commit()
    join = db.session.scalar(select(JoinRequest))
    logged_in(member)
    response = post_form(client, f"/etablissement/demandes/{join.id}/accepter", {}, page="/etablissement/")
    assert response.status_code == 404
    db.session.refresh(newcomer)
    assert newcomer.establishment_id is None


def test_unknown_identifier_to_join_is_explained(newcomer):
    _, client = newcomer
    page = unescape(post_form(client, "/etablissement/rejoindre", {"identifier": make_uai(123)}).get_data(as_text=True))
    assert "Aucun établissement n'est inscrit avec cet identifiant" in page
    page = unescape(post_form(client, "/etablissement/rejoindre", {"identifier": "1234"}).get_data(as_text=True))
    assert "Ni un code UAI" in page


def test_invite_a_colleague_creates_an_account_attached_and_never_hijacks_an_existing_one(app, client, logged_in):
    establishment = make_establishment()
    member = make_user(Role.REQUESTER, establishment_id=establishment.id)
    existing = make_user(Role.REQUESTER, email="deja@exemple.fr")
    db.session.commit()
    logged_in(member)
    response = post_form(client, "/etablissement/inviter", {"full_name": "Paul CPE", "email": "Paul.CPE@exemple.fr"},
                         page="/etablissement/")
    assert response.status_code == 302
    colleague = User.by_email("paul.cpe@exemple.fr")
    assert colleague.establishment_id == establishment.id and colleague.invited_by_id == member.id
    assert not colleague.is_activated
    assert db.session.scalar(select(OutgoingMessage).where(OutgoingMessage.recipient == "paul.cpe@exemple.fr"))
    post_form(client, "/etablissement/inviter", {"full_name": "Déjà", "email": "deja@exemple.fr"},
              page="/etablissement/")
    db.session.refresh(existing)
    assert existing.establishment_id is None  # told by e-mail, joins only by asking
    message = db.session.scalar(select(OutgoingMessage).where(OutgoingMessage.recipient == "deja@exemple.fr"))
    assert "rejoindre" in message.body_text


def test_a_refused_invitation_is_summed_up_on_top_of_the_members_page(app, client, logged_in):
    establishment = make_establishment()
    member = make_user(Role.REQUESTER, establishment_id=establishment.id)
    logged_in(member)
    response = post_form(client, "/etablissement/inviter", {"full_name": "", "email": "x" * 250 + "@exemple.fr"},
                         page="/etablissement/")
    page = unescape(response.get_data(as_text=True))
    summary = page.split('id="resume-erreurs"', 1)[1].split("</div>", 1)[0]
    assert "Le formulaire contient 3 erreurs" in summary  # the address is invalid too
    assert '<a href="#full_name">Nom et prénom : Indiquez le nom.</a>' in summary
    assert "254 caractères au maximum : votre texte en compte 261." in summary  # refused, not cut by the browser
    assert "maxlength" not in page


def test_members_correct_their_establishment_but_not_its_commune(app, client, logged_in):
    establishment = make_establishment(uai=make_uai(690004))
    member = make_user(Role.REQUESTER, establishment_id=establishment.id)
    loner = make_user(Role.REQUESTER)
    db.session.commit()
    commune, departement = establishment.commune_insee, establishment.departement_code
    logged_in(member)
    page = unescape(client.get("/etablissement/").get_data(as_text=True))
    assert "Modifier les informations de l'établissement" in page
    refused = post_form(client, "/etablissement/modifier", {"name": " ", "address": "1 place du Marché"})
    assert refused.status_code == 200 and "Indiquez le nom." in unescape(refused.get_data(as_text=True))
    db.session.refresh(establishment)
    assert establishment.address != "1 place du Marché", "nothing saved from a refused form"
    saved = post_form(client, "/etablissement/modifier", {"name": "Collège Jean-Moulin", "address": "1 place du Marché",
                                                          "phone": "04 78 12 34 56", "commune_insee": "13055"})
    assert saved.status_code == 302
    db.session.refresh(establishment)
    assert (establishment.name, establishment.address, establishment.phone) == (
        "Collège Jean-Moulin", "1 place du Marché", "04 78 12 34 56")
    assert (establishment.commune_insee, establishment.departement_code) == (commune, departement)
    assert "04 78 12 34 56" in unescape(client.get("/etablissement/").get_data(as_text=True))
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    logged_in(loner)
    assert client.get("/etablissement/modifier").status_code == 302, "no establishment: nothing to edit"


def test_with_no_active_member_left_the_coordination_decides_who_joins(app, client, logged_in):
    orphan = make_establishment(uai=make_uai(690005), name="Collège des Lilas")
    make_user(Role.REQUESTER, establishment_id=orphan.id, active=False)  # the one who left
    staffed = make_establishment(uai=make_uai(690006))
    make_user(Role.REQUESTER, establishment_id=staffed.id)
    coordinator = make_coordinator("69", Force.POLICE)
    elsewhere = make_coordinator("13", Force.POLICE)
    newcomer, other = make_user(Role.REQUESTER), make_user(Role.REQUESTER)
    db.session.commit()
    logged_in(newcomer)
    post_form(client, "/etablissement/rejoindre", {"identifier": make_uai(690005), "message": "Nouvelle CPE"})
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    logged_in(other)
    post_form(client, "/etablissement/rejoindre", {"identifier": make_uai(690006)})
    told = db.session.scalars(select(OutgoingMessage.recipient).where(
        OutgoingMessage.subject == "[Relais] Demande de rattachement à un établissement sans membre actif")).all()
    assert told == [coordinator.email], "the coordination of the territory only, and only for the orphan"
    orphan_join, staffed_join = db.session.scalars(select(JoinRequest).order_by(JoinRequest.id)).all()

    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    logged_in(elsewhere)
    assert "Aucune demande en attente." in unescape(client.get("/coordination/rattachements").get_data(as_text=True))
    refused = post_form(client, f"/coordination/rattachements/{orphan_join.id}/accepter", {},
                        page="/coordination/rattachements")
    assert refused.status_code == 404, "another département's establishment"

    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    logged_in(coordinator)
    home = unescape(client.get("/accueil").get_data(as_text=True))
    assert "1 demande de rattachement à un établissement sans membre actif attend votre décision." in home
    page = unescape(client.get("/coordination/rattachements").get_data(as_text=True))
    assert newcomer.full_name in page and "Nouvelle CPE" in page and other.full_name not in page
    members_decide = post_form(client, f"/coordination/rattachements/{staffed_join.id}/accepter", {},
                               page="/coordination/rattachements")
    assert members_decide.status_code == 302
    db.session.refresh(other)
    assert other.establishment_id is None, "a member is there to decide"
    approved = post_form(client, f"/coordination/rattachements/{orphan_join.id}/accepter", {},
                         page="/coordination/rattachements")
    assert approved.status_code == 302
    db.session.refresh(newcomer)
    db.session.refresh(orphan_join)
    assert newcomer.establishment_id == orphan.id and orphan_join.status is JoinStatus.APPROVED
    assert orphan_join.decided_by_id == coordinator.id
    assert db.session.scalar(select(OutgoingMessage.recipient).where(
        OutgoingMessage.subject == "[Relais] Votre demande de rattachement")) == newcomer.email
    assert "Aucune demande en attente." in unescape(client.get("/coordination/rattachements").get_data(as_text=True))
