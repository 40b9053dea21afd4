"""Uploads stay within bounds (#17, points 9 and 10): a body beyond MAX_CONTENT_LENGTH is a French 413 page; an
import refuses, with a French sentence, a zip bomb (from the archive's directory, before openpyxl inflates
anything), too many rows, a cell too long (even beyond what the csv module reads) or bytes that are no text, in
little time and memory."""

from __future__ import annotations

import html
import io
import struct
import time
import tracemalloc
import zipfile

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Force, OutgoingMessage, Trainer, Unit
from tests.factories import make_coordinator, roster_csv, roster_row
from tests.helpers import login, post_upload

IMPORT = "/formateurs/import"
MEGABYTE = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture
def coordinator_client(client, app):
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    return client


def _text(response) -> str:
    """The page's text unescaped, French number spacing (narrow no-break spaces) as plain spaces."""
    return html.unescape(response.get_data(as_text=True)).replace("\u202f", " ").replace("\xa0", " ")


def _nothing_written() -> bool:
    return not any(db.session.scalar(select(func.count()).select_from(model))
                   for model in (Trainer, Unit, OutgoingMessage))


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A real workbook whose sheet inflates to 300 MB of rows, compressed to about 1.4 MB."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["force", "matricule"])
    plain = io.BytesIO()
    workbook.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        for entry in source.infolist():
            if entry.filename != SHEET:
                bomb.writestr(entry, source.read(entry.filename))
                continue
            with bomb.open(SHEET, "w") as sheet:
                sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                            b"<sheetData>")
                row = b'<row><c t="inlineStr"><is><t>%s</t></is></c></row>'
                row = row % (b"x" * (64 - len(row) + 2))  # 64 bytes: a mebibyte is 16,384 rows
                for _ in range(300):
                    sheet.write(row * 16_384)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _declaring(content: bytes, name: str, size: int) -> bytes:
    """The archive with `size` declared for the entry, in its local header and in the central directory (a lying
    zip: the data inflates to more)."""
    data = bytearray(content)
    encoded = name.encode()
    at = data.find(encoded)
    while at >= 0:
        if data[at - 46:at - 42] == b"PK\x01\x02":
            struct.pack_into("<I", data, at - 46 + 24, size)
        elif data[at - 30:at - 26] == b"PK\x03\x04":
            struct.pack_into("<I", data, at - 30 + 22, size)
        at = data.find(encoded, at + 1)
    return bytes(data)


def _measured(send):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        response = send()
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, elapsed, peak


def test_a_body_beyond_max_content_length_gets_the_french_413_page(coordinator_client, app):
    assert app.config["MAX_CONTENT_LENGTH"] == 5 * MEGABYTE
    response = post_upload(coordinator_client, IMPORT, "registre.csv", b"x" * (5 * MEGABYTE + 1))
    assert response.status_code == 413
    page = _text(response)
    assert "<h1>Fichier trop volumineux" in page
    assert "dépasse la taille acceptée (5 Mo au plus). Rien n'a été enregistré : découpez-le" in page
    assert 'href="/formateurs/import">Revenir au formulaire' in page
    assert _nothing_written()


def test_the_import_page_says_its_limits(coordinator_client):
    page = _text(coordinator_client.get(IMPORT))
    assert "de 5 Mo et 10 000 lignes au plus" in page


def test_a_zip_bomb_is_refused_from_its_directory_quickly_and_in_little_memory(coordinator_client, zip_bomb):
    with zipfile.ZipFile(io.BytesIO(zip_bomb)) as archive:
        assert archive.getinfo(SHEET).file_size > 300 * MEGABYTE  # what the sheet inflates to
    assert len(zip_bomb) < 2 * MEGABYTE
    response, elapsed, peak = _measured(lambda: post_upload(coordinator_client, IMPORT, "registre.xlsx", zip_bomb))
    assert response.status_code == 200
    assert "Ce classeur XLSX ferait 300 Mo une fois décompressé : cet import accepte 50 Mo au plus." in _text(response)
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert peak < 50 * MEGABYTE, f"{peak / MEGABYTE:.0f} MB"  # the sheet alone would be 300
    assert _nothing_written()


def test_a_zip_bomb_that_lies_about_its_size_is_read_no_further_than_declared(coordinator_client, zip_bomb):
    # Python's zipfile never inflates an entry beyond its declared size: openpyxl reads the first 64 kB of XML,
    # then the checksum fails; a damaged file, said in French.
    liar = _declaring(zip_bomb, SHEET, 64 * 1024)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert sum(entry.file_size for entry in archive.infolist()) < MEGABYTE
    response, elapsed, peak = _measured(lambda: post_upload(coordinator_client, IMPORT, "registre.xlsx", liar))
    assert "Le fichier XLSX est illisible ou endommagé" in _text(response)
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert peak < 50 * MEGABYTE, f"{peak / MEGABYTE:.0f} MB"  # the sheet alone would be 300
    assert _nothing_written()


def test_a_file_of_too_many_rows_is_refused_while_streaming_in_little_memory(coordinator_client):
    # Just under the upload limit: 600,000 lines of separators, each an empty row (today: all in memory).
    content = roster_csv() + b";;;;;;;\n" * 600_000
    assert 4 * MEGABYTE < len(content) < 5 * MEGABYTE
    response, elapsed, peak = _measured(lambda: post_upload(coordinator_client, IMPORT, "registre.csv", content))
    assert ("Le fichier compte plus de 10 000 lignes : cet import n'en accepte pas plus. Découpez-le en plusieurs "
            "fichiers.") in _text(response)
    assert peak < 60 * MEGABYTE, f"{peak / MEGABYTE:.0f} MB"  # about 150 if every row were kept
    assert _nothing_written()


@pytest.mark.parametrize(("content", "message"), [
    (roster_csv(roster_row()) + "Œuvre;\n".encode("cp1252") + b"\x81\x8d;\n",
     "Ligne 4 : le fichier n'est lisible ni en UTF-8 ni en Windows-1252 (octet 0x81). Enregistrez-le au format "
     "« CSV UTF-8 » et recommencez."),
    (roster_csv(roster_row(nom="x" * 131_073)),
     "Ligne 2 : une cellule dépasse 2 000 caractères, bien plus qu'aucune colonne n'en demande."),
    (roster_csv(roster_row(), roster_row(matricule="PN1002", email="b@interieur.gouv.fr", motif_inactivite="y" * 2001)),
     "Ligne 3 : une cellule dépasse 2 000 caractères"),
    (roster_csv(roster_row()).replace(b"Jean Dupont", b'"Jean Dupont') + b"x" * 140_000,
     "Ligne 2 : une cellule dépasse 2 000 caractères"),  # a quote never closed: the rest of the file is one cell
    (b"force;matricule" + b";x" * 100 + b"\n", "Ligne 1 : plus de 60 colonnes."),
    (b"PK\x03\x04 not really a workbook", "Le fichier XLSX est illisible ou endommagé"),
])
def test_a_file_that_cannot_be_read_gets_a_french_sentence_not_a_500(coordinator_client, content, message):
    filename = "registre.xlsx" if content.startswith(b"PK") else "registre.csv"
    response = post_upload(coordinator_client, IMPORT, filename, content, dry_run="")
    assert response.status_code == 200
    assert message in _text(response)
    assert _nothing_written()


def test_a_file_in_windows_1252_is_still_read(coordinator_client):
    content = roster_csv(roster_row(nom="Hélène Œuvray")).decode("utf-8").encode("cp1252")
    response = post_upload(coordinator_client, IMPORT, "registre.csv", content)
    assert "1 créé," in _text(response)
    assert db.session.scalar(select(Trainer)).user.full_name == "Hélène Œuvray"


def test_imported_text_is_cleaned_as_typed_text_is(coordinator_client):
    # A NUL byte would break PostgreSQL's text; other control characters hide text.
    content = roster_csv(roster_row(nom="Jean\x00 Du\x07pont", grade=" Brigadier\u200b "))
    response = post_upload(coordinator_client, IMPORT, "registre.csv", content)
    assert "1 créé," in _text(response)
    trainer = db.session.scalar(select(Trainer))
    assert (trainer.user.full_name, trainer.rank) == ("Jean Dupont", "Brigadier")
