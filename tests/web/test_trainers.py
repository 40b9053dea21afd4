"""Trainer pages: scope rules, roster, record, availability; roster import/export; certification warnings."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event, func, select

from app.domain.timezones import to_utc
from app.extensions import db
from app.jobs import warn_expiring_certifications
from app.models import (
    AvailabilityException,
    AvailabilityPattern,
    ExceptionKind,
    Force,
    OutgoingMessage,
    Role,
    Trainer,
    User,
)
from tests.factories import load_demo_data, make_assigned_session, make_coordinator, make_trainer, make_user
from tests.helpers import csrf_token_from, login, post_form

TODAY = date(2026, 11, 30)


@pytest.fixture
def scene(app, clock):
    coordinator = make_coordinator("69", Force.POLICE)
    mine = make_trainer("69", Force.POLICE)
    other_force = make_trainer("69", Force.GENDARMERIE)
    other_departement = make_trainer("13", Force.POLICE)
    db.session.commit()
    return coordinator, mine, other_force, other_departement


# -- scope --------------------------------------------------------------------------------------------


def test_a_coordinator_sees_only_the_trainers_of_their_scope(client, scene):
    coordinator, mine, other_force, other_departement = scene
    login(client, coordinator)
    roster = client.get("/formateurs/").get_data(as_text=True)
    assert mine.full_name in roster
    assert other_force.full_name not in roster and other_departement.full_name not in roster
    assert client.get(f"/formateurs/{mine.id}").status_code == 200
    for outsider in (other_force, other_departement):
        for path in (f"/formateurs/{outsider.id}", f"/formateurs/{outsider.id}/modifier",
                     f"/formateurs/{outsider.id}/disponibilites"):
            assert client.get(path).status_code == 404, path
    exported = client.get("/formateurs/export.csv").get_data(as_text=True)
    assert mine.matricule in exported and other_departement.matricule not in exported


def test_an_admin_sees_everyone(client, scene):
    _, mine, other_force, other_departement = scene
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(client, admin)
    roster = client.get("/formateurs/?actif=tous").get_data(as_text=True)
    assert all(t.full_name in roster for t in (mine, other_force, other_departement))
    assert client.get(f"/formateurs/{other_departement.id}").status_code == 200
    # The export takes the roster's filters: the link carries them, the file holds what the list shows.
    filtered = client.get("/formateurs/?actif=tous&force=gendarmerie").get_data(as_text=True)
    link = re.search(r'href="(/formateurs/export\.csv\?[^"]+)"', filtered).group(1).replace("&amp;", "&")
    assert "force=gendarmerie" in link and "actif=tous" in link
    exported = client.get(link).get_data(as_text=True)
    assert other_force.matricule in exported
    assert mine.matricule not in exported and other_departement.matricule not in exported
    everyone = client.get("/formateurs/export.csv?actif=tous").get_data(as_text=True)
    assert all(t.matricule in everyone for t in (mine, other_force, other_departement))


def test_a_trainer_has_no_roster_and_no_one_elses_page(client, scene):
    _, mine, other_force, _ = scene
    login(client, mine.user)
    assert client.get("/formateurs/").status_code == 403
    assert client.get(f"/formateurs/{mine.id}").status_code == 403
    assert client.get(f"/formateurs/{other_force.id}/disponibilites").status_code == 403
    assert client.get("/formateurs/mes-disponibilites").status_code == 200


def test_a_coordinator_cannot_delete_another_scopes_exception(client, scene):
    coordinator, mine, other_force, _ = scene
    exception = AvailabilityException(kind=ExceptionKind.UNAVAILABLE, starts_at=datetime(2026, 12, 10, tzinfo=UTC),
                                      ends_at=datetime(2026, 12, 11, tzinfo=UTC))
    other_force.exceptions.append(exception)
    db.session.commit()
    login(client, coordinator)
    page = f"/formateurs/{mine.id}/disponibilites"
    response = post_form(client, f"/formateurs/{other_force.id}/periodes/{exception.id}/supprimer", {}, page=page)
    assert response.status_code == 404
    response = post_form(client, f"/formateurs/{mine.id}/periodes/{exception.id}/supprimer", {}, page=page)
    assert response.status_code == 404
    assert db.session.get(AvailabilityException, exception.id) is not None


# -- roster -------------------------------------------------------------------------------------------


def test_roster_shows_counts_filters_and_flags_lapsed_certifications(client, scene):
    coordinator, mine, _, _ = scene
    lapsed = make_trainer("69", Force.POLICE, certified_on=TODAY - timedelta(days=800))
    expiring = make_trainer("69", Force.POLICE, certified_on=TODAY - timedelta(days=700))
    start = datetime(2026, 12, 3, 9, tzinfo=UTC)
    make_assigned_session(mine, start)
    make_assigned_session(mine, start + timedelta(days=1))
    make_assigned_session(mine, start + timedelta(days=2), status="offered")  # not counted: not accepted
    make_assigned_session(mine, datetime(2026, 11, 10, 9, tzinfo=UTC))  # last month
    db.session.commit()
    login(client, coordinator)
    html = client.get("/formateurs/").get_data(as_text=True)
    assert "Expirée le" in html and "Expire le" in html and "Valide jusqu'au" in html
    assert "1 sur 12 au plus" in html  # the accepted session of November; December's are next month
    lapsed_only = client.get("/formateurs/?habilitation=lapsed").get_data(as_text=True)
    assert lapsed.full_name in lapsed_only
    assert expiring.full_name not in lapsed_only and mine.full_name not in lapsed_only
    lapsed.active, lapsed.inactive_reason = False, "Mutation"
    db.session.commit()
    assert lapsed.full_name not in client.get("/formateurs/").get_data(as_text=True)
    assert "Mutation" in client.get("/formateurs/?actif=non").get_data(as_text=True)
    detail = client.get(f"/formateurs/{expiring.id}").get_data(as_text=True)
    assert "Habilitation bientôt expirée" in detail


def test_roster_counts_sessions_of_the_month(client, app, clock):
    clock.freeze(datetime(2026, 12, 15, 9, tzinfo=UTC))
    coordinator = make_coordinator("69", Force.POLICE)
    trainer = make_trainer("69", Force.POLICE)
    for day in (3, 4):
        make_assigned_session(trainer, datetime(2026, 12, day, 9, tzinfo=UTC))
    make_assigned_session(trainer, datetime(2026, 12, 5, 9, tzinfo=UTC), status="offered")
    make_assigned_session(trainer, datetime(2026, 11, 10, 9, tzinfo=UTC))
    db.session.commit()
    login(client, coordinator)
    html = client.get("/formateurs/").get_data(as_text=True)
    assert f"2 sur {trainer.max_sessions_per_month} au plus" in html


def test_roster_lists_departements_in_code_order_and_themes_in_the_programme_s(client, app, clock):
    from app.models import Departement, Topic

    coordinator = make_coordinator("69", Force.POLICE)
    trainer = make_trainer("69", Force.POLICE)
    trainer.departements = [db.session.get(Departement, code) for code in ("69", "2A", "01")]
    trainer.topics = [db.session.get(Topic, code) for code in ("tabac-vapotage", "cannabis", "alcool")]
    bare = make_trainer("69", Force.POLICE)
    bare.topics = []
    db.session.commit()
    login(client, coordinator)
    rows = re.findall(r"<tr>.*?</tr>", client.get("/formateurs/").get_data(as_text=True), re.S)
    row = next(r for r in rows if trainer.matricule in r)
    assert "<td>01, 2A, 69</td>" in row
    assert "Cannabis, Alcool, Tabac et vapotage" in row
    assert '<td>0 <span class="visually-hidden">' in next(r for r in rows if bare.matricule in r)


def test_roster_uses_a_fixed_number_of_queries_and_paginates_by_key(client, app, clock):
    from app.trainers import routes

    coordinator = make_coordinator("69", None)
    for index in range(4):
        trainer = make_trainer("69", Force.POLICE if index % 2 else Force.GENDARMERIE)
        make_assigned_session(trainer, datetime(2026, 11, 20, 9, tzinfo=UTC))
    db.session.commit()
    login(client, coordinator)

    def count_queries(path: str) -> int:
        db.session.expire_all()
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    few = count_queries("/formateurs/")
    for _ in range(6):
        make_trainer("69", Force.POLICE)
    db.session.commit()
    assert count_queries("/formateurs/") == few

    names = sorted(db.session.scalars(select(User.full_name).join(Trainer, Trainer.user_id == User.id)))
    original = routes.roster_page.__defaults__
    routes.roster_page.__defaults__ = (None, 4)
    try:
        seen, path = [], "/formateurs/"
        while path:
            html = client.get(path).get_data(as_text=True)
            seen += [name for name in names if f">{name}</a>" in html]
            marker = 'href="/formateurs/?apres='
            path = ("/formateurs/?apres=" + html.split(marker, 1)[1].split('"', 1)[0]) if marker in html else None
        assert sorted(seen) == names and len(seen) == len(set(seen))
    finally:
        routes.roster_page.__defaults__ = original


# -- a trainer's own availability -----------------------------------------------------------------------


def _availability_post(client, data: dict, prefix: str):
    html = client.get("/formateurs/mes-disponibilites").get_data(as_text=True)
    token = csrf_token_from(html)
    return client.post("/formateurs/mes-disponibilites", data={**data, f"{prefix}-csrf_token": token})


def test_a_trainer_edits_their_weekly_pattern_exceptions_and_limits(client, scene):
    _, mine, _, _ = scene
    login(client, mine.user)
    page = client.get("/formateurs/mes-disponibilites").get_data(as_text=True)
    assert "disponibilité par défaut du lundi au vendredi" in page
    response = _availability_post(client, {
        "creneaux-grid_1_matin": "y", "creneaux-grid_3_matin": "y",
        "creneaux-custom-0-weekday": "2", "creneaux-custom-0-start": "14:00", "creneaux-custom-0-end": "16:30",
        "creneaux-custom-1-weekday": "-1", "creneaux-custom-2-weekday": "-1",
        "creneaux-submit_pattern": "Enregistrer"}, "creneaux")
    assert response.status_code == 302
    patterns = db.session.scalars(select(AvailabilityPattern).where(AvailabilityPattern.trainer_id == mine.id)
                                  .order_by(AvailabilityPattern.weekday)).all()
    assert [(p.weekday, p.start_time, p.end_time) for p in patterns] == [
        (1, time(8), time(12)), (2, time(14), time(16, 30)), (3, time(8), time(12))]
    page = client.get("/formateurs/mes-disponibilites").get_data(as_text=True)
    assert 'name="creneaux-grid_1_matin" type="checkbox" value="y" checked' in page or \
        'checked id="creneaux-grid_1_matin"' in page or "creneaux-grid_1_matin" in page
    assert "Mercredi de 14\u00a0h à 16\u00a0h\u00a030" in page

    refused = _availability_post(client, {"creneaux-custom-0-weekday": "-1", "creneaux-custom-1-weekday": "-1",
                                          "creneaux-custom-2-weekday": "-1", "creneaux-submit_pattern": "x"},
                                 "creneaux")
    assert refused.status_code == 200 and "Cochez au moins une demi-journée" in refused.get_data(as_text=True)
    bad_time = _availability_post(client, {"creneaux-custom-0-weekday": "4", "creneaux-custom-0-start": "15:00",
                                           "creneaux-custom-0-end": "14:00", "creneaux-submit_pattern": "x"},
                                  "creneaux")
    assert "heure de fin doit suivre" in bad_time.get_data(as_text=True)

    response = _availability_post(client, {"exception-kind": "unavailable", "exception-start_day": "2026-12-21",
                                           "exception-end_day": "2026-12-23", "exception-reason": "Congés",
                                           "exception-submit_exception": "Ajouter"}, "exception")
    assert response.status_code == 302
    leave = db.session.scalars(select(AvailabilityException).where(AvailabilityException.trainer_id == mine.id)).one()
    assert leave.starts_at == to_utc(date(2026, 12, 21), time(0), "Europe/Paris")
    assert leave.ends_at == to_utc(date(2026, 12, 24), time(0), "Europe/Paris")  # whole days, end included
    extra_without_hours = _availability_post(client, {"exception-kind": "extra", "exception-start_day": "2026-12-12",
                                                      "exception-end_day": "2026-12-12",
                                                      "exception-submit_exception": "Ajouter"}, "exception")
    assert "Indiquez l'heure de début et l'heure de fin" in extra_without_hours.get_data(as_text=True)
    past = _availability_post(client, {"exception-kind": "unavailable", "exception-start_day": "2026-11-01",
                                       "exception-end_day": "2026-11-02", "exception-submit_exception": "Ajouter"},
                              "exception")
    assert "déjà passée" in past.get_data(as_text=True)

    response = _availability_post(client, {"limites-max_sessions_per_week": "2", "limites-max_sessions_per_month": "6",
                                           "limites-max_distance_km": "35", "limites-languages": "français, arabe",
                                           "limites-submit_limits": "x"}, "limites")
    assert response.status_code == 302
    db.session.refresh(mine)
    assert (mine.max_sessions_per_week, mine.max_sessions_per_month, mine.max_distance_km,
            mine.accepts_pair_work, mine.languages) == (2, 6, 35, False, "français, arabe")
    bad_limits = _availability_post(client, {"limites-max_sessions_per_week": "9",
                                             "limites-max_sessions_per_month": "6", "limites-max_distance_km": "35",
                                             "limites-languages": "français", "limites-submit_limits": "x"},
                                    "limites")
    assert "ne peut dépasser le maximum par mois" in bad_limits.get_data(as_text=True)

    response = post_form(client, f"/formateurs/mes-disponibilites/periodes/{leave.id}/supprimer", {},
                         page="/formateurs/mes-disponibilites")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(AvailabilityException.id))) == 0


# -- the record ---------------------------------------------------------------------------------------


def _record_data(trainer: Trainer, **changes) -> dict:
    data = {"rank": trainer.rank, "unit_id": str(trainer.unit_id), "departements": ["69"],
            "topics": ["cannabis", "alcool"], "audiences": ["4e", "3e"], "initial_training_on": "2024-01-15",
            "last_refresher_on": "2026-01-10", "max_sessions_per_week": "3", "max_sessions_per_month": "10",
            "max_distance_km": "50", "accepts_pair_work": "y", "languages": "français", "active": "y"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_coordinator_edits_qualifications_limits_and_state(client, scene):
    coordinator, mine, _, _ = scene
    login(client, coordinator)
    url = f"/formateurs/{mine.id}/modifier"
    response = post_form(client, url, _record_data(mine))
    assert response.status_code == 302
    db.session.refresh(mine)
    assert [t.code for t in mine.topics] == ["cannabis", "alcool"]
    assert mine.last_refresher_on == date(2026, 1, 10) and mine.max_sessions_per_month == 10
    inactive = post_form(client, url, _record_data(mine, active=None))
    assert "Indiquez pourquoi le formateur est inactif." in inactive.get_data(as_text=True)
    response = post_form(client, url, _record_data(mine, active=None, inactive_reason="Congé long"))
    assert response.status_code == 302
    db.session.refresh(mine)
    assert not mine.active and mine.inactive_reason == "Congé long"
    # A coordinator cannot move a trainer entirely out of their scope.
    moved = post_form(client, url, _record_data(mine, departements=["13"]))
    assert "Au moins un des départements doit relever de votre périmètre." in moved.get_data(as_text=True)


def test_a_coordinator_creates_a_trainer_who_gets_an_invitation(client, scene):
    coordinator, mine, _, _ = scene
    login(client, coordinator)
    data = _record_data(mine, full_name="Léa Nouvelle", email="Lea.Nouvelle@interieur.gouv.fr", force="police",
                        matricule="777001")
    response = post_form(client, "/formateurs/nouveau", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    trainer = db.session.scalars(select(Trainer).where(Trainer.matricule == "777001")).one()
    assert trainer.user.email == "lea.nouvelle@interieur.gouv.fr" and trainer.user.role is Role.TRAINER
    assert db.session.scalar(select(func.count(OutgoingMessage.id))
                             .where(OutgoingMessage.recipient == "lea.nouvelle@interieur.gouv.fr")) == 1
    again = post_form(client, "/formateurs/nouveau", {**data, "email": "autre@interieur.gouv.fr"})
    assert "Ce matricule est déjà enregistré pour cette force." in again.get_data(as_text=True)


# -- import and export ----------------------------------------------------------------------------------

HEADER = ("force;matricule;grade;nom;email;telephone;unite;type_unite;departement_unite;commune_unite;"
          "latitude_unite;longitude_unite;departements;themes;publics;formation_initiale;dernier_recyclage;"
          "max_seances_semaine;max_seances_mois;distance_max_km;binome;langues;actif;motif_inactivite")
ROW_1 = ("police;PN1001;Brigadier;Jean Dupont;jean.dupont@interieur.gouv.fr;04 00 00 00 01;DDPN Rhône;ddpn;69;Lyon;"
         "45.76;4.84;69;Cannabis|alcool;Élèves de 4e|3e;2020-03-02;2025-02-10;3;10;60;oui;français;oui;")
ROW_2 = ("gendarmerie;GN2002;Adjudant;Marie Curie;marie.curie@gendarmerie.gouv.fr;;MPF Rhône;mpf;69;Villeurbanne;"
         "45.77;4.88;69|01;harcelement|risques-numeriques;parents;12/09/2019;;2;8;80;non;français, anglais;non;"
         "Congé long")


def _csv(*rows: str) -> bytes:
    return ("\n".join((HEADER, *rows)) + "\n").encode("utf-8")


def _write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_import_creates_trainers_then_reimport_is_unchanged_and_export_round_trips(runner, app, clock, tmp_path):
    result = runner.invoke(args=["import-trainers", _write(tmp_path, "roster.csv", _csv(ROW_1, ROW_2))])
    assert result.exit_code == 0, result.output
    assert "2 créé(s), 0 modifié(s), 0 inchangé(s)" in result.output
    jean = db.session.scalars(select(Trainer).where(Trainer.matricule == "PN1001")).one()
    assert [t.code for t in jean.topics] == ["cannabis", "alcool"] and [a.code for a in jean.audiences] == ["4e", "3e"]
    marie = db.session.scalars(select(Trainer).where(Trainer.matricule == "GN2002")).one()
    assert marie.initial_training_on == date(2019, 9, 12) and not marie.active and not marie.accepts_pair_work
    assert sorted(d.code for d in marie.departements) == ["01", "69"]
    invitations = db.session.scalars(select(OutgoingMessage.recipient)).all()
    assert sorted(invitations) == ["jean.dupont@interieur.gouv.fr", "marie.curie@gendarmerie.gouv.fr"]

    again = runner.invoke(args=["import-trainers", _write(tmp_path, "roster.csv", _csv(ROW_1, ROW_2))])
    assert "0 créé(s), 0 modifié(s), 2 inchangé(s)" in again.output
    assert db.session.scalar(select(func.count(OutgoingMessage.id))) == 2  # no second invitation

    first_export = tmp_path / "export1.csv"
    assert runner.invoke(args=["export-trainers", str(first_export)]).exit_code == 0
    reimport = runner.invoke(args=["import-trainers", str(first_export)])
    assert "0 créé(s), 0 modifié(s), 2 inchangé(s)" in reimport.output, reimport.output
    second_export = tmp_path / "export2.csv"
    runner.invoke(args=["export-trainers", str(second_export)])
    assert first_export.read_bytes() == second_export.read_bytes()
    assert first_export.read_text(encoding="utf-8-sig").splitlines()[0] == HEADER
    assert first_export.read_bytes().startswith(b"\xef\xbb\xbf"), "a BOM: French Excel reads the accents as UTF-8"


def test_dry_run_writes_nothing_and_tells_what_would_change(runner, app, clock, tmp_path):
    runner.invoke(args=["import-trainers", _write(tmp_path, "a.csv", _csv(ROW_1))])
    changed = ROW_1.replace(";3;10;60;", ";2;10;60;")
    result = runner.invoke(args=["import-trainers", "--dry-run", _write(tmp_path, "b.csv", _csv(changed, ROW_2))])
    assert result.exit_code == 0, result.output
    assert "Simulation : 1 créé(s), 1 modifié(s), 0 inchangé(s). Rien n'a été enregistré." in result.output
    assert "max_seances_semaine" in result.output
    assert db.session.scalar(select(func.count(Trainer.id))) == 1
    assert db.session.scalar(select(Trainer.max_sessions_per_week)) == 3
    assert db.session.scalar(select(func.count(OutgoingMessage.id))) == 1


BAD_ROWS = [
    (ROW_1.replace("police;", "marine;", 1), "force : « marine » inconnue"),
    (ROW_1.replace("jean.dupont@interieur.gouv.fr", "jean.dupont@"), "email : adresse « jean.dupont@ » invalide"),
    (ROW_1.replace(";69;Cannabis", ";99;Cannabis"), "departements : département inconnu : 99"),
    (ROW_1.replace("Cannabis|alcool", "Cannabis|jardinage"), "themes : thème inconnu : jardinage"),
    (ROW_1.replace("Élèves de 4e|3e", "retraités"), "publics : public inconnu : retraités"),
    (ROW_1.replace("2020-03-02", "2020-13-45"), "formation_initiale : date invalide"),
    (ROW_1.replace("2025-02-10", "2019-01-01"), "dernier_recyclage : antérieur à la formation initiale"),
    (ROW_1.replace("2025-02-10", "2030-01-01"), "dernier_recyclage : la date 2030-01-01 est dans le futur"),
    (ROW_1.replace(";3;10;60;", ";trois;10;60;"), "max_seances_semaine : nombre entier attendu"),
    (ROW_1.replace(";3;10;60;", ";3;10;5000;"), "distance_max_km : 5000 hors des limites"),
    (ROW_1.replace(";oui;français;oui;", ";peut-être;français;oui;"), "binome : « oui » ou « non » attendu"),
    (ROW_1.replace(";oui;français;oui;", ";oui;français;non;"), "motif_inactivite : obligatoire"),
    (ROW_1.replace("Brigadier", ""), "grade : valeur obligatoire manquante"),
    (ROW_1.replace(";ddpn;", ";caserne;"), "type_unite : « caserne » inconnu"),
    (ROW_1.replace(";45.76;", ";nord;"), "latitude_unite : nombre attendu"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_each_kind_of_bad_row_is_reported_with_its_line_and_nothing_is_written(runner, app, clock, tmp_path, row,
                                                                            message):
    result = runner.invoke(args=["import-trainers", _write(tmp_path, "bad.csv", _csv(ROW_2, row))])
    assert result.exit_code != 0
    assert "Ligne 3 : " in result.output and message in result.output, result.output
    assert "rien n'a été enregistré" in result.output
    assert db.session.scalar(select(func.count(Trainer.id))) == 0
    assert db.session.scalar(select(func.count(OutgoingMessage.id))) == 0


def test_duplicates_inside_the_file_and_a_bad_header_are_refused(runner, app, clock, tmp_path):
    duplicate = ROW_1.replace("jean.dupont@", "jean.autre@")
    result = runner.invoke(args=["import-trainers", _write(tmp_path, "dup.csv", _csv(ROW_1, duplicate))])
    assert "Ligne 3 : matricule PN1001 (police) déjà présent à la ligne 2." in result.output
    header = _write(tmp_path, "header.csv", b"force;matricule;nom\npolice;1;X\n")
    result = runner.invoke(args=["import-trainers", header])
    assert result.exit_code != 0 and "colonnes manquantes" in result.output


def test_import_reads_xlsx_too(runner, app, clock, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(";"))
    values = ROW_1.split(";")
    values[15] = datetime(2020, 3, 2)  # a real date cell
    values[17] = 3  # a number cell
    sheet.append(values)
    path = tmp_path / "roster.xlsx"
    workbook.save(path)
    result = runner.invoke(args=["import-trainers", str(path)])
    assert result.exit_code == 0, result.output
    trainer = db.session.scalars(select(Trainer)).one()
    assert trainer.initial_training_on == date(2020, 3, 2) and trainer.max_sessions_per_week == 3


def test_upload_page_respects_the_coordinator_scope(client, app, clock):
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)

    def upload(content: bytes, dry_run: bool):
        html = client.get("/formateurs/import").get_data(as_text=True)
        data = {"csrf_token": csrf_token_from(html), "file": (io.BytesIO(content), "registre.csv")}
        if dry_run:
            data["dry_run"] = "y"
        return client.post("/formateurs/import", data=data, content_type="multipart/form-data")

    refused = upload(_csv(ROW_1, ROW_2), dry_run=False).get_data(as_text=True)
    assert "Fichier refusé" in refused and "vous ne coordonnez pas tous ces départements" in refused
    assert db.session.scalar(select(func.count(Trainer.id))) == 0
    simulated = upload(_csv(ROW_1), dry_run=True).get_data(as_text=True)
    assert "Simulation : rien n'a été enregistré" in simulated and "1 à créer" in simulated
    assert db.session.scalar(select(func.count(Trainer.id))) == 0
    done = upload(_csv(ROW_1), dry_run=False)
    assert "1 créé, 0 modifié, 0 inchangé." in done.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Trainer.id))) == 1
    invitation = db.session.scalars(select(OutgoingMessage)).one()
    assert invitation.recipient == "jean.dupont@interieur.gouv.fr" and "/compte/" in invitation.body_text


def test_a_coordinator_cannot_update_a_trainer_outside_their_scope_by_import(client, app, clock):
    outsider = make_trainer("13", Force.POLICE)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    row = ROW_1.replace("PN1001", outsider.matricule)
    html = client.get("/formateurs/import").get_data(as_text=True)
    response = client.post("/formateurs/import", data={"csrf_token": csrf_token_from(html),
                                                       "file": (io.BytesIO(_csv(row)), "r.csv")},
                           content_type="multipart/form-data")
    assert "formateur hors de votre périmètre" in response.get_data(as_text=True)


# -- certification warnings -----------------------------------------------------------------------------


def test_the_warning_job_warns_trainer_and_coordinators_once(app, runner, clock):
    coordinator = make_coordinator("69", Force.POLICE)
    other_force = make_coordinator("69", Force.GENDARMERIE)
    expiring = make_trainer("69", Force.POLICE, certified_on=TODAY - timedelta(days=700))
    make_trainer("69", Force.POLICE, certified_on=TODAY - timedelta(days=100))  # valid: no warning
    make_trainer("69", Force.POLICE, certified_on=TODAY - timedelta(days=900))  # lapsed: flagged, not warned
    db.session.commit()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "avertissements-habilitation: 2" in result.output
    warnings = select(OutgoingMessage).where(OutgoingMessage.dedup_key.like("certification-warning:%"))
    recipients = sorted(m.recipient for m in db.session.scalars(warnings))
    assert recipients == sorted([expiring.user.email, coordinator.email])
    assert other_force.email not in recipients
    message = db.session.scalars(warnings.where(OutgoingMessage.recipient == coordinator.email)).one()
    assert expiring.full_name in message.subject and f"/formateurs/{expiring.id}" in message.body_text
    assert warn_expiring_certifications(db.session, datetime(2026, 12, 1, 9, tzinfo=UTC)) == 0
    db.session.commit()
    assert db.session.scalar(warnings.with_only_columns(func.count(OutgoingMessage.id))) == 2
    # A new refresher starts a new period: the next warning, two years later, is a new message.
    expiring.last_refresher_on = TODAY
    db.session.commit()
    later = datetime.combine(TODAY + timedelta(days=700), time(9), tzinfo=UTC)
    assert warn_expiring_certifications(db.session, later) == 2


def test_demo_roster_pages_render_and_the_whole_export_reimports_unchanged(client, app, clock):
    from app.domain.demo import DEMO_PASSWORD
    from app.domain.imports.trainers import export_trainers, import_trainers, read_table

    load_demo_data(seed=7, today=TODAY)
    assert db.session.scalar(select(func.count(AvailabilityPattern.id))) > 0
    assert db.session.scalar(select(func.count(AvailabilityException.id))) > 0
    coordinator = User.by_email("coordination.police.69@relais.demo")
    login(client, coordinator, DEMO_PASSWORD)
    html = client.get("/formateurs/?actif=tous").get_data(as_text=True)
    assert "Police (PFAD)" in html and "Gendarmerie (FRAD)" not in html
    trainer_ids = db.session.scalars(select(Trainer.id).where(Trainer.force == Force.POLICE,
                                                              Trainer.unit.has(departement_code="69"))).all()
    assert trainer_ids
    for trainer_id in trainer_ids:
        assert client.get(f"/formateurs/{trainer_id}").status_code == 200
        assert client.get(f"/formateurs/{trainer_id}/disponibilites").status_code == 200

    text = export_trainers(db.session, select(Trainer))
    report = import_trainers(db.session, read_table("demo.csv", text.encode()), actor=None, today=TODAY, dry_run=True)
    assert report.ok and not report.created and not report.updated
    assert len(report.unchanged) == db.session.scalar(select(func.count(Trainer.id)))
