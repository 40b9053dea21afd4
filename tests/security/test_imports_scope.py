"""The trainers' import writes inside the importer's scope only, and never changes a login address by itself
(#17, point 2).

A coordinator's import touches the trainers and units of their scope: each refusal on its line, nothing written.
A new login address is a separate step its owner confirms: a link to the new address (with the account's password
when it has one), a notice to the old one; the address changes only when the link is followed."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app.domain.mail import SmtpTransport, deliver_pending
from app.extensions import db
from app.models import Departement, Force, OutgoingMessage, Role, Trainer, Unit, User
from tests.factories import PASSWORD, make_coordinator, make_trainer, make_unit, make_user, roster_csv, roster_row
from tests.helpers import login, post_form, post_upload, switch_to

IMPORT = "/formateurs/import"
SENDER = "Relais <no-reply@relais.localhost>"
LINK = re.compile(r"http://127\.0\.0\.1:5000(/compte/nouvelle-adresse/[\w.-]+)")


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _import(client, *rows: dict, dry_run: bool = False) -> str:
    fields = {"dry_run": "y"} if dry_run else {}
    return _page(post_upload(client, IMPORT, "registre.csv", roster_csv(*rows), **fields))


def _log_out(client) -> None:
    """The test client's next requests are anonymous (one client per test: Flask-Login keeps its user in the
    app context the test shares with every request)."""
    post_form(client, "/compte/deconnexion", {}, page="/accueil")


def _messages() -> list[OutgoingMessage]:
    return list(db.session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)))


@pytest.fixture
def coordinator(app, clock):
    coordinator = make_coordinator("69", Force.POLICE, full_name="Claire Coordinatrice")
    db.session.commit()
    return coordinator


def _qualified(trainer: Trainer) -> Trainer:
    from app.models import Audience, Topic

    trainer.topics, trainer.audiences = [db.session.get(Topic, "cannabis")], [db.session.get(Audience, "4e")]
    return trainer


# -- units and départements -------------------------------------------------------------------------------------


def test_a_unit_shared_with_another_departement_keeps_its_description(client, coordinator):
    mine = _qualified(make_trainer("69", Force.POLICE))
    shared = mine.unit
    elsewhere = make_trainer("01", Force.POLICE)  # of the Ain's coordination, in the same unit
    elsewhere.unit = shared
    db.session.commit()
    login(client, coordinator)
    page = _import(client, roster_row(mine, commune_unite="Villeurbanne", latitude_unite="45.77"))
    assert "Fichier refusé : rien n'a été enregistré" in page
    assert (f"unite : « {shared.name} » compte des formateurs hors de votre périmètre : sa description (type, "
            "département, commune, coordonnées) ne peut pas être modifiée par votre import.") in page
    db.session.expire_all()
    assert (shared.commune_name, shared.latitude) == (db.session.get(Departement, "69").name,
                                                      db.session.get(Departement, "69").latitude)
    # Its own description, unchanged, is no change to the unit: the rest of the row is imported.
    page = _import(client, roster_row(mine, grade="Major"))
    assert "0 créé, 1 modifié, 0 inchangé" in page and "modification : grade" in page


def test_units_outside_the_scope_are_neither_created_nor_described(client, coordinator):
    mine = _qualified(make_trainer("69", Force.POLICE))
    marseille = make_unit("13", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    page = _import(
        client,
        roster_row(mine, unite=marseille.name, type_unite="commissariat", departement_unite="13",
                   commune_unite="Aubagne", latitude_unite="43.29", longitude_unite="5.57"),
        roster_row(matricule="PN2001", email="nouveau@interieur.gouv.fr", unite="Commissariat de Marseille Nord",
                   departement_unite="13", commune_unite="Marseille"),
        roster_row(mine, matricule="PN2002", email="autre@interieur.gouv.fr", nom="Autre",
                   departement_unite="13"),  # moves the trainer's own unit of the Rhône to the Bouches-du-Rhône
        roster_row(matricule="PN2003", email="dernier@interieur.gouv.fr", unite="Nouvelle unité du Rhône"),
    )
    assert "Lignes en erreur : 3." in page
    assert (f"unite : « {marseille.name} » est hors de votre périmètre : sa description (type, département, "
            "commune, coordonnées) ne peut pas être modifiée ; reprenez celle du registre.") in page
    assert ("unite : « Commissariat de Marseille Nord » n'existe pas encore et vous ne pouvez créer une unité que "
            "dans un département de votre périmètre (pas 13).") in page
    assert f"unite : « {mine.unit.name} » est hors de votre périmètre" in page  # the move to 13 is outside it
    # All or nothing: the valid fourth row was not written either.
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Unit.id))) == 2
    assert db.session.scalar(select(func.count(Trainer.id))) == 1 and not _messages()
    assert marseille.commune_name == db.session.get(Departement, "13").name


def test_departements_outside_the_scope_are_neither_added_nor_removed(client, coordinator):
    both = _qualified(make_trainer("69", Force.POLICE))
    both.departements = [db.session.get(Departement, "69"), db.session.get(Departement, "01")]
    db.session.commit()
    login(client, coordinator)
    # Exported by the coordinator, imported back: the Ain stays, untouched.
    assert "0 créé, 0 modifié, 1 inchangé" in _import(client, roster_row(both))
    for departements, outside in (("69|01|13", "13"), ("69", "01")):
        page = _import(client, roster_row(both, departements=departements))
        assert (f"departements : vous ne coordonnez pas {outside} pour cette force : ces départements ne peuvent "
                "être ni ajoutés ni retirés par votre import.") in page
    page = _import(client, roster_row(both, departements="01"))  # out of the scope entirely: refused too
    assert "departements : au moins un des départements doit relever de votre périmètre." in page
    db.session.expire_all()
    assert [d.code for d in both.departements] == ["01", "69"]


def test_an_address_of_another_trainer_is_refused_on_its_line_not_a_500(client, coordinator):
    taken = make_trainer("13", Force.GENDARMERIE)
    db.session.commit()
    login(client, coordinator)
    page = _import(client, roster_row(email=taken.user.email))
    assert f"email : l'adresse {taken.user.email} appartient déjà à un autre compte." in page
    assert db.session.scalar(select(func.count(Trainer.id))) == 1


# -- a new login address ----------------------------------------------------------------------------------------


def _deliver(smtp_server, clock) -> dict:
    sent, failed = deliver_pending(db.session, SmtpTransport("127.0.0.1", smtp_server.port), SENDER, clock.now())
    assert failed == 0 and sent == len(smtp_server.handler.messages)
    return {message["To"]: message for message in smtp_server.handler.messages}


def _parts(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


def test_an_import_only_asks_for_a_new_address_and_its_owner_confirms_it(client, app, coordinator, clock,
                                                                        smtp_server):
    trainer = _qualified(make_trainer("69", Force.POLICE))
    old = trainer.user.email
    db.session.commit()
    login(client, coordinator)
    simulated = _import(client, roster_row(trainer, email="Nouvelle.Adresse@interieur.gouv.fr"), dry_run=True)
    assert "changement d'adresse en attente de confirmation : nouvelle.adresse@interieur.gouv.fr" in simulated
    assert "un lien sera envoyé à la nouvelle adresse" in simulated and not _messages()

    page = _import(client, roster_row(trainer, email="nouvelle.adresse@interieur.gouv.fr", grade="Major"))
    assert "0 créé, 1 modifié, 0 inchangé" in page
    assert "modification : grade<br>changement d'adresse en attente de confirmation" in page
    db.session.expire_all()
    assert (trainer.user.email, trainer.rank) == (old, "Major")  # the rest of the row is imported
    assert sorted(m.recipient for m in _messages()) == sorted([old, "nouvelle.adresse@interieur.gouv.fr"])
    # The address is not the login yet: a reset asked for it gives no link.
    _log_out(client)
    post_form(client, "/compte/mot-de-passe-oublie", {"email": "nouvelle.adresse@interieur.gouv.fr"})
    assert User.by_email("nouvelle.adresse@interieur.gouv.fr") is None
    assert not [m for m in _messages() if "/compte/nouveau-mot-de-passe/" in m.body_text]
    # The reset form's own answer to an unknown address, if it gives one, is not this test's.
    db.session.execute(delete(OutgoingMessage).where(~OutgoingMessage.subject.contains("adresse de connexion")))
    db.session.commit()

    received = _deliver(smtp_server, clock)
    text, body = _parts(received["nouvelle.adresse@interieur.gouv.fr"])
    assert received["nouvelle.adresse@interieur.gouv.fr"]["Subject"] == ("[Relais] Confirmez votre nouvelle adresse "
                                                                          "de connexion")
    assert "Claire Coordinatrice a demandé que votre compte Relais se connecte désormais avec cette adresse" in text
    assert "Le mot de passe actuel de votre compte vous sera demandé" in text
    [path] = set(LINK.findall(text)) | set(LINK.findall(body))
    notice_text, notice_html = _parts(received[old])
    assert received[old]["Subject"] == "[Relais] Changement de l'adresse de connexion de votre compte"
    assert "nouvelle.adresse@interieur.gouv.fr" in notice_text and "/compte/nouvelle-adresse/" not in notice_text
    assert "Rien ne change tant que ce changement n'est pas confirmé depuis la nouvelle adresse" in notice_text
    assert "/compte/nouvelle-adresse/" not in notice_html

    # Whoever reads the new address is asked the account's password.
    reader = client
    form = _page(reader.get(path))
    assert "Confirmer votre nouvelle adresse" in form and 'autocomplete="current-password"' in form
    wrong = post_form(reader, path, {"password": "pas-le-bon-mot-de-passe"})
    assert wrong.status_code == 200 and "Mot de passe incorrect." in _page(wrong)
    db.session.expire_all()
    assert trainer.user.email == old
    done = post_form(reader, path, {"password": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/compte/connexion")
    db.session.expire_all()
    assert trainer.user.email == "nouvelle.adresse@interieur.gouv.fr"
    assert "Votre adresse de connexion est désormais nouvelle.adresse@interieur.gouv.fr." in _page(
        reader.get("/compte/connexion"))
    # The link worked once.
    assert "Ce lien de changement d'adresse n'est plus valable" in _page(reader.get(path, follow_redirects=True))
    login(reader, trainer.user)  # with the new address
    # Imported again, the file is now unchanged.
    switch_to(client, coordinator)
    assert "0 créé, 0 modifié, 1 inchangé" in _import(client, roster_row(trainer))


def test_the_importer_cannot_take_over_the_account_with_an_address_they_read(client, app, coordinator, clock):
    trainer = _qualified(make_trainer("69", Force.POLICE))
    old = trainer.user.email
    db.session.commit()
    login(client, coordinator)
    _import(client, roster_row(trainer, email="boite.du.coordinateur@exemple.fr"))
    [link] = [m for m in _messages() if m.recipient == "boite.du.coordinateur@exemple.fr"]
    [path] = LINK.findall(link.body_text)
    for password in ("", "devine-1234"):
        assert post_form(client, path, {"password": password}).status_code == 200  # refused, the form again
    db.session.expire_all()
    assert trainer.user.email == old and User.by_email("boite.du.coordinateur@exemple.fr") is None


def test_a_link_expires_and_dies_when_the_password_changes(client, app, coordinator, clock):
    trainer = _qualified(make_trainer("69", Force.POLICE))
    db.session.commit()
    login(client, coordinator)
    _import(client, roster_row(trainer, email="a@interieur.gouv.fr"))
    _import(client, roster_row(trainer, email="b@interieur.gouv.fr"))
    links = {m.recipient: LINK.findall(m.body_text)[0] for m in _messages() if LINK.search(m.body_text)}
    reader = client
    clock.advance(timedelta(hours=47))
    assert reader.get(links["a@interieur.gouv.fr"]).status_code == 200
    clock.advance(timedelta(hours=2))
    assert reader.get(links["a@interieur.gouv.fr"]).status_code == 302  # 49 hours: expired
    clock.advance(timedelta(hours=-2))
    trainer.user.password_hash = trainer.user.password_hash + "x"  # a new password
    db.session.commit()
    assert reader.get(links["b@interieur.gouv.fr"]).status_code == 302
    assert reader.get("/compte/nouvelle-adresse/faux-jeton").status_code == 302


def test_an_address_taken_meanwhile_is_not_given_twice(client, app, coordinator, clock):
    trainer = _qualified(make_trainer("69", Force.POLICE))
    db.session.commit()
    login(client, coordinator)
    _import(client, roster_row(trainer, email="convoitee@interieur.gouv.fr"))
    [path] = [LINK.findall(m.body_text)[0] for m in _messages() if LINK.search(m.body_text)]
    make_user(Role.REQUESTER, email="convoitee@interieur.gouv.fr")
    db.session.commit()
    _log_out(client)
    page = _page(post_form(client, path, {"password": PASSWORD}))
    assert "L'adresse convoitee@interieur.gouv.fr est déjà celle d'un autre compte : votre adresse n'a pas changé." \
        in page
    db.session.expire_all()
    assert trainer.user.email != "convoitee@interieur.gouv.fr"


def test_an_account_not_yet_activated_confirms_by_the_link_and_gets_its_invitation_there(client, app, coordinator,
                                                                                        clock):
    # The invitation went to a mistyped address: the coordinator corrects it, the right address confirms.
    trainer = _qualified(make_trainer("69", Force.POLICE, user=make_user(Role.TRAINER, activated=False,
                                                                        email="jean.dupond@interieur.gouv.fr")))
    db.session.commit()
    from app.domain import tokens

    mistyped_invitation = "/compte/activer/" + tokens.make_token(app.config["SECRET_KEY"], tokens.ACTIVATION,
                                                                 trainer.user.id, None, trainer.user.email)
    login(client, coordinator)
    _import(client, roster_row(trainer, email="jean.dupont@interieur.gouv.fr"))
    [message] = [m for m in _messages() if m.recipient == "jean.dupont@interieur.gouv.fr"]
    assert "mot de passe actuel" not in message.body_text
    [path] = LINK.findall(message.body_text)
    _log_out(client)
    reader = client
    assert 'type="password"' not in _page(reader.get(path))
    assert post_form(reader, path, {}).status_code == 302
    db.session.expire_all()
    assert trainer.user.email == "jean.dupont@interieur.gouv.fr"
    invitation = _messages()[-1]
    assert invitation.recipient == "jean.dupont@interieur.gouv.fr" and "/compte/activer/" in invitation.body_text
    # Whoever holds the mistyped address cannot open the account with the invitation sent there.
    assert "plus valable" in _page(reader.get(mistyped_invitation, follow_redirects=True))
    assert 'type="password"' in _page(reader.get(re.search(r"/compte/activer/[\w.-]+", invitation.body_text)[0]))


def test_the_command_line_import_asks_too(runner, app, clock):
    trainer = _qualified(make_trainer("69", Force.POLICE))
    old = trainer.user.email
    db.session.commit()
    path = app.config["RELAIS_INSTANCE_TMP"] + "/registre.csv"
    with open(path, "wb") as handle:
        handle.write(roster_csv(roster_row(trainer, email="ailleurs@interieur.gouv.fr")))
    result = runner.invoke(args=["import-trainers", path])
    assert result.exit_code == 0, result.output
    assert (f"Ligne 2 : police {trainer.matricule} modifié (changement d'adresse en attente de confirmation : "
            "ailleurs@interieur.gouv.fr)") in result.output
    db.session.expire_all()
    assert trainer.user.email == old
    assert sorted(m.recipient for m in _messages()) == sorted([old, "ailleurs@interieur.gouv.fr"])
    [link] = [m for m in _messages() if m.recipient == "ailleurs@interieur.gouv.fr"]
    assert "Il a été demandé que votre compte Relais" in link.body_text


def test_what_users_typed_is_escaped_in_the_html_e_mails(client, app, clock):
    coordinator = make_coordinator("69", Force.POLICE, full_name='<a href="http://evil.example">Service</a>')
    trainer = _qualified(make_trainer("69", Force.POLICE))
    trainer.user.full_name = "<img src=x onerror=alert(1)>"
    db.session.commit()
    login(client, coordinator)
    _import(client, roster_row(trainer, email="neuve@interieur.gouv.fr"))
    assert len(_messages()) == 2  # the link to the new address, the notice to the old one
    for message in _messages():
        assert "<a href=\"http://evil.example\"" not in message.body_html and "<img" not in message.body_html
        assert "&lt;a href=" in message.body_html


def test_the_trainer_record_form_cannot_change_the_login_address(client, coordinator):
    # The record's form has no address field (a new trainer's form creates an account, with a free address): the
    # import is the one way a coordinator asks for a new login address.
    trainer = _qualified(make_trainer("69", Force.POLICE))
    db.session.commit()
    login(client, coordinator)
    assert 'name="email"' not in _page(client.get(f"/formateurs/{trainer.id}/modifier"))
