"""The ministry's territorial-competence table: good file (BOM), bad lines, re-import, CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.imports.competence import import_competence
from app.extensions import db
from app.models import CommuneCompetence, Force

HEADER = "code_commune;libelle_commune;institution;id_service;service;code_postal;codes_postaux\n"
GOOD = (HEADER
        + "69123;Lyon;PN;DDSP69;Commissariat de Lyon;69001;69001-69002-69003\n"
        + "69001;Affoux;GN;BTA-69;Brigade de Tarare;69170;69170\n"
        + "97411;Saint-Denis;PN;DTPN974;Commissariat de Saint-Denis;97400;97400-97490\n"
        + "2A004;Ajaccio;PN;DIPN2A;Commissariat d'Ajaccio;20000;20000-20090\n")


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(CommuneCompetence))


@pytest.mark.rolled_back
def test_good_file_with_bom_is_loaded(app):
    report = import_competence(db.session, "\ufeff" + GOOD)
    assert report.ok and report.created == 4
    lyon = db.session.get(CommuneCompetence, "69123")
    assert lyon.force is Force.POLICE and lyon.departement_code == "69" and lyon.postcodes == "69001-69002-69003"
    assert db.session.get(CommuneCompetence, "69001").force is Force.GENDARMERIE
    assert db.session.get(CommuneCompetence, "97411").departement_code == "974"
    assert db.session.get(CommuneCompetence, "2A004").departement_code == "2A"


@pytest.mark.rolled_back
def test_reimport_is_idempotent_and_updates_changes(app):
    import_competence(db.session, GOOD)
    again = import_competence(db.session, GOOD)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    changed = import_competence(db.session, GOOD.replace("69001;Affoux;GN", "69001;Affoux;PN"))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 3)
    assert db.session.get(CommuneCompetence, "69001").force is Force.POLICE
    assert _count() == 4


@pytest.mark.rolled_back
def test_bad_lines_are_reported_with_their_number_and_nothing_is_written(app):
    bad = (HEADER
           + "69123;Lyon;PN;DDSP69;Commissariat de Lyon;69001;69001\n"
           + "6912;Nulle part;PN;;;69001;\n"
           + "69264;Villefranche;XX;;;69400;\n"
           + "69999;;GN;;;69400;\n"
           + "69264;Villefranche;GN;;;694;\n"
           + "69123;Lyon;PN;;;69001;\n"
           + "99001;Ailleurs;GN;;;99000;\n")
    report = import_competence(db.session, bad)
    assert not report.ok
    assert [str(error) for error in report.errors] == [
        "Ligne 3 : le code commune « 6912 » n'est pas un code INSEE (5 caractères).",
        "Ligne 4 : institution « XX » inconnue : PN (police) ou GN (gendarmerie) attendu.",
        "Ligne 5 : le nom de la commune (libelle_commune) est vide.",
        "Ligne 6 : le code postal « 694 » doit compter 5 chiffres.",
        "Ligne 7 : la commune 69123 figure déjà ligne 2.",
        "Ligne 8 : le code commune « 99001 » désigne un département inconnu (99).",
    ]
    assert _count() == 0


@pytest.mark.rolled_back
def test_wrong_separator_is_explained(app):
    report = import_competence(db.session, GOOD.replace(";", ","))
    assert [str(error) for error in report.errors][0].startswith("Ligne 1 : colonnes manquantes")
    assert _count() == 0


def test_cli_imports_shows_progress_and_fails_on_bad_lines(app, runner, tmp_path):
    good = tmp_path / "competence.csv"
    good.write_bytes(("\ufeff" + GOOD).encode("utf-8"))
    result = runner.invoke(args=["import-competence", str(good)])
    assert result.exit_code == 0, result.output
    assert "4 commune(s) ajoutée(s)" in result.output
    again = runner.invoke(args=["import-competence", str(good)])
    assert "0 commune(s) ajoutée(s), 0 modifiée(s), 4 inchangée(s)" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "69002;Ailleurs;ZZ;;;69000;\n", encoding="utf-8")
    failed = runner.invoke(args=["import-competence", str(bad)])
    assert failed.exit_code != 0
    assert "Ligne 2 : institution « ZZ » inconnue" in failed.output
    assert "rien n'a été enregistré" in failed.output
    assert db.session.get(CommuneCompetence, "69002") is None


@pytest.mark.rolled_back
def test_the_written_table_quotes_formulas_and_reads_them_back(app):
    from app.domain.imports.competence import write_competence_csv

    row = dict(zip(HEADER.strip().split(";"), ["69123", "=Lyon", "PN", "@DDSP69", "-Commissariat", "69001",
                                               "69001-69002"], strict=True))
    text = write_competence_csv([row])
    assert "69123;'=Lyon;PN;'@DDSP69;'-Commissariat;69001;69001-69002" in text
    assert import_competence(db.session, text).created == 1
    lyon = db.session.get(CommuneCompetence, "69123")
    assert (lyon.name, lyon.service_id, lyon.service_name) == ("=Lyon", "@DDSP69", "-Commissariat")


@pytest.mark.rolled_back
def test_a_file_that_stops_being_readable_is_one_error_naming_its_line(app):
    report = import_competence(db.session, GOOD + "69264;" + "x" * 131_073 + ";PN;;;69400;\n")
    assert [str(error).replace("\u202f", " ") for error in report.errors] == [
        "Ligne 6 : une cellule dépasse 1 000 caractères, bien plus qu'aucune colonne n'en demande. Vérifiez le "
        "fichier (guillemets non refermés ?)."]
    assert _count() == 0
