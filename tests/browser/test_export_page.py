"""In Chromium, on the demo data: a coordinator exports the schedule as an Excel workbook and as CSV from the export
page (#19, point 8), the three formats offered with their labels; axe at desktop width and at 390 px, where the page
is no wider than the phone. With RELAIS_SHOTS=<folder>, the page is saved as a screenshot at both widths."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.domain.demo import DEMO_PASSWORD
from app.domain.exports import CSV_COLUMNS
from tests.browser.helpers import assert_accessible, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _check_at_both_widths(page, name: str) -> None:
    shots = os.environ.get("RELAIS_SHOTS")
    desktop = page.viewport_size
    for label, size in (("bureau", desktop), ("390px", PHONE)):
        page.set_viewport_size(size)
        assert_accessible(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} at {label}: {width} px wide"
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=os.path.join(shots, f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(desktop)


def _download(page, format_label: str) -> bytes:
    page.get_by_label(format_label).check()
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger").click()
    return Path(info.value.path()).read_bytes()


def test_a_coordinator_downloads_the_schedule_as_a_workbook_and_as_csv(demo, page):
    log_in(page, "coordination.police.69@relais.demo", DEMO_PASSWORD)
    page.goto("/calendrier/export")
    formats = page.get_by_role("group", name="Format")
    assert [formats.get_by_role("radio").nth(i).evaluate("r => r.labels[0].textContent.trim()") for i in range(3)] \
        == ["Agenda iCalendar (.ics)", "Tableur CSV (.csv)", "Classeur Excel (.xlsx)"]
    _check_at_both_widths(page, "export")

    workbook = load_workbook(io.BytesIO(_download(page, "Classeur Excel (.xlsx)")))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == list(CSV_COLUMNS) and sheet.max_row > 1, "the scope's sessions"
    assert sheet["A2"].is_date and isinstance(sheet["J2"].value, int)

    spreadsheet = _download(page, "Tableur CSV (.csv)")
    assert spreadsheet.startswith("\ufeff".encode()) and spreadsheet.decode("utf-8-sig").startswith("date;début;fin;")
    assert spreadsheet.decode("utf-8-sig").count("\r\n") == sheet.max_row, "the same sessions in both"
