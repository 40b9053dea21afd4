"""Every command ends with a French sentence, never a traceback (#17, point 10): on bad options and arguments, on
files that cannot be read, and when a step was not run first (`flask db upgrade`, `flask reference-data`)."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import delete, func, select

from app import create_app
from app.cli import RelaisCommand
from app.domain.reference_data import sync_reference_data
from app.extensions import db
from app.models import Audience, CommuneCompetence, Departement, OutgoingMessage, Topic, Trainer
from tests.factories import roster_csv, roster_row

COMPETENCE_HEADER = "code_commune;libelle_commune;institution;id_service;service;code_postal;codes_postaux\n"
COMPETENCE_ROW = "69123;Lyon;PN;DDSP69;Commissariat de Lyon;69001;69001-69002\n"


def refused(result, sentence: str, exit_code: int = 1) -> None:
    """The command stopped with `Erreur : <sentence>`: no traceback, no English of click's."""
    output = result.output.replace("\u202f", " ")
    assert isinstance(result.exception, SystemExit), f"{result.exception!r}\n{output}"
    assert result.exit_code == exit_code, output
    assert "Traceback" not in output and "Error:" not in output and "Usage:" not in output, output
    assert f"Erreur : {sentence}" in output, output


def _file(tmp_path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_every_command_of_the_app_is_a_relais_command(app):
    ours = {name: command for name, command in app.cli.commands.items()
            if getattr(command.callback, "__module__", None) == "app.cli"}
    assert len(ours) >= 10 and set(app.cli.commands) - set(ours) == {"db"}  # db: Flask-Migrate's
    for name, command in ours.items():
        assert isinstance(command, RelaisCommand), f"{name} is not built by app.cli's `command`"


# -- a step not run first ---------------------------------------------------------------------------------------


@pytest.fixture
def without_reference_data(app):
    """The reference tables emptied for one test (they are kept between tests: put back after)."""
    for model in (Departement, Topic, Audience):
        db.session.execute(delete(model))
    db.session.commit()
    yield
    db.session.rollback()
    sync_reference_data(db.session)
    db.session.commit()


def test_import_competence_without_reference_data_says_to_load_it_first(runner, tmp_path, without_reference_data):
    path = _file(tmp_path, "competence.csv", (COMPETENCE_HEADER + COMPETENCE_ROW).encode())
    result = runner.invoke(args=["import-competence", path])
    refused(result, "les données de référence (départements, thèmes, publics) ne sont pas chargées : lancez "
                    "d'abord « flask --app wsgi reference-data ».")
    assert db.session.scalar(select(func.count()).select_from(CommuneCompetence)) == 0


def test_the_commands_that_need_reference_data_say_so(runner, tmp_path, without_reference_data):
    roster = _file(tmp_path, "registre.csv", roster_csv(roster_row()))
    for args in (["import-trainers", roster], ["plan", "--from", "2027-01-04", "--to", "2027-01-08"]):
        refused(runner.invoke(args=args), "les données de référence (départements, thèmes, publics) ne sont pas "
                                          "chargées")
    assert db.session.scalar(select(func.count(Trainer.id))) == 0


@pytest.mark.parametrize("args", [
    ["reference-data"], ["demo-data"], ["demo-logins"], ["tick"], ["deliver", "--once"],
    ["import-trainers", "{roster}"], ["import-competence", "{competence}"],
    ["plan", "--from", "2027-01-04", "--to", "2027-01-08"], ["export-ics", "--output", "{out}/a.ics"],
    ["export-trainers", "{out}/registre.csv"],
])
def test_every_command_on_a_database_without_tables_says_to_create_them(tmp_path, args):
    empty = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'vide.sqlite3'}"})
    files = {"roster": _file(tmp_path, "registre.csv", roster_csv(roster_row())),
             "competence": _file(tmp_path, "competence.csv", (COMPETENCE_HEADER + COMPETENCE_ROW).encode()),
             "out": str(tmp_path)}
    with empty.app_context():
        result = empty.test_cli_runner().invoke(args=[arg.format(**files) for arg in args])
        db.engine.dispose()
    refused(result, "la base de données n'a pas encore ses tables : lancez d'abord « flask --app wsgi db upgrade ».")


# -- bad options and arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "sentence"), [
    (["plan", "--from", "2027-13-01", "--to", "2027-01-08"],
     "valeur invalide pour « --from » : « 2027-13-01 » n'est pas une date AAAA-MM-JJ."),
    (["plan", "--from", "0001-01-01", "--to", "9999-12-31"],
     "valeur invalide pour « --from » : « 0001-01-01 » est hors des dates acceptées (1970–2100)."),
    (["plan", "--from", "2027-01-08", "--to", "2027-01-04"],
     "la fin doit suivre le début (--from 2027-01-08, --to 2027-01-04)."),
    (["plan", "--to", "2027-01-08"], "il manque « --from » (voir « flask --app wsgi plan --help »)."),
    (["plan", "--from", "2027-01-04", "--to", "2027-01-08", "--force", "marine"],
     "valeur invalide pour « --force » : « marine » n'est pas une valeur possible (police, gendarmerie)."),
    (["plan", "--from", "2027-01-04", "--to", "2027-01-08", "--departement", "99"],
     "département(s) inconnu(s) : 99."),
    (["plan", "--du", "2027-01-04"], "option inconnue : --du (voir « flask --app wsgi plan --help »)."),
    (["export-ics", "--output", "{tmp}/absent/a.ics"], "valeur invalide pour « --output » : le dossier"),
    (["export-ics", "--output", "{tmp}"], "valeur invalide pour « --output » : « {tmp} » est un dossier"),
    (["export-ics", "--output", "{tmp}/a.ics", "--status", "perdue"],
     "valeur invalide pour « --status » : « perdue » n'est pas une valeur possible"),
    (["export-trainers", "{tmp}/absent/registre.csv"], "valeur invalide pour « FILE » : le dossier"),
    (["import-trainers", "{tmp}/absent.csv"], "valeur invalide pour « FILE » : le fichier « {tmp}/absent.csv » "
                                              "n'existe pas."),
    (["import-competence", "{tmp}"], "valeur invalide pour « FILE » : « {tmp} » n'est pas un fichier."),
    (["demo-data", "--scale", "planetaire"], "valeur invalide pour « --scale » : « planetaire » n'est pas une "
                                             "valeur possible (demo, national)."),
    (["demo-data", "--seed", "beaucoup"], "valeur invalide pour « --seed » : « beaucoup » n'est pas un nombre "
                                          "entier."),
    (["deliver", "--once", "--batch", "0"], "valeur invalide pour « --batch » : 0 est hors des limites (1 à 10000)."),
    (["deliver", "--interval", "jamais"], "valeur invalide pour « --interval » : « jamais » n'est pas un nombre de "
                                          "secondes."),
    (["tick", "en-trop"], "commande mal formée"),
])
def test_bad_options_and_arguments_get_a_french_sentence(runner, app, tmp_path, args, sentence):
    result = runner.invoke(args=[arg.format(tmp=tmp_path) for arg in args])
    refused(result, sentence.format(tmp=tmp_path), exit_code=2)


def test_a_full_command_still_works_with_the_french_types(runner, app, clock, tmp_path):
    result = runner.invoke(args=["plan", "--from", "2027-01-04", "--to", "2027-01-08", "--departement", "69",
                                 "--force", "police", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Simulation : aucune proposition envoyée." in result.output
    output = tmp_path / "export.ics"
    result = runner.invoke(args=["export-ics", "--from", "2027-01-01", "--to", "2027-01-31", "--output", str(output)])
    assert result.exit_code == 0 and output.read_text().startswith("BEGIN:VCALENDAR"), result.output


# -- files that cannot be read ----------------------------------------------------------------------------------


NOT_TEXT = b"\x81\x8d\x8f\x90\x9d"  # not UTF-8, and five of the bytes Windows-1252 leaves undefined


def _zip_bomb() -> bytes:
    """A small archive whose one part declares 200 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive, \
            archive.open("xl/worksheets/sheet1.xml", "w") as part:
        for _ in range(200):
            part.write(b" " * 1024 * 1024)
    return out.getvalue()


@pytest.mark.parametrize(("name", "content", "sentence"), [
    ("registre.csv", lambda: roster_csv(roster_row()) + NOT_TEXT + b"\n",
     "Ligne 3 : le fichier n'est lisible ni en UTF-8 ni en Windows-1252 (octet 0x81)."),
    ("registre.csv", lambda: roster_csv(roster_row(nom="x" * 131_073)),
     "Ligne 2 : une cellule dépasse 2 000 caractères"),
    ("registre.csv", lambda: roster_csv(*[roster_row(matricule=f"PN{n}", email=f"f{n}@interieur.gouv.fr")
                                          for n in range(10_001)]),
     "Le fichier compte plus de 10 000 lignes : cet import n'en accepte pas plus."),
    ("registre.xlsx", _zip_bomb, "Ce classeur XLSX ferait 200 Mo une fois décompressé : cet import accepte 50 Mo "
                                 "au plus."),
    ("registre.xlsx", lambda: b"pas un classeur", "Le fichier XLSX est illisible ou endommagé"),
    ("registre.csv", lambda: b"", "Le fichier est vide."),
])
def test_import_trainers_refuses_an_unreadable_file_in_french(runner, app, tmp_path, name, content, sentence):
    result = runner.invoke(args=["import-trainers", _file(tmp_path, name, content())])
    refused(result, sentence)
    assert db.session.scalar(select(func.count(Trainer.id))) == 0
    assert db.session.scalar(select(func.count(OutgoingMessage.id))) == 0


@pytest.mark.parametrize(("content", "sentence"), [
    ((COMPETENCE_HEADER + COMPETENCE_ROW).encode() + NOT_TEXT + b"\n",
     "Ligne 3 : le fichier n'est pas en UTF-8 (octet 0x81). Enregistrez-le en UTF-8 et recommencez."),
    ((COMPETENCE_HEADER + COMPETENCE_ROW).encode("cp1252").replace(b"Lyon", "Lyoné".encode("cp1252")),
     "Ligne 2 : le fichier n'est pas en UTF-8 (octet 0xE9)."),
    ((COMPETENCE_HEADER + "69123;" + "x" * 131_073 + ";PN;;;69001;\n").encode(),
     "1 ligne(s) en erreur : rien n'a été enregistré."),
])
def test_import_competence_refuses_an_unreadable_file_in_french(runner, app, tmp_path, content, sentence):
    result = runner.invoke(args=["import-competence", _file(tmp_path, "competence.csv", content)])
    refused(result, sentence)
    assert db.session.scalar(select(func.count()).select_from(CommuneCompetence)) == 0


def test_import_competence_names_the_line_of_a_cell_too_long(runner, app, tmp_path):
    content = (COMPETENCE_HEADER + COMPETENCE_ROW + "69124;" + "x" * 131_073 + ";PN;;;69001;\n").encode()
    result = runner.invoke(args=["import-competence", _file(tmp_path, "competence.csv", content)])
    assert "Ligne 3 : une cellule dépasse 1 000 caractères" in result.output.replace("\u202f", " ")
    refused(result, "1 ligne(s) en erreur : rien n'a été enregistré.")
