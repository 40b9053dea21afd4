"""Tables in files (CSV, XLSX): the one way the app writes them and the one way its imports read them.

- Writing (`csv_text`, used by every CSV the app produces): a text cell that a spreadsheet would run as a formula
  (it starts with = + - @, a tab or a carriage return: `=HYPERLINK(…)`, `@SUM(…)`) is written with a leading
  single quote, as OWASP recommends against "CSV injection". Plain numbers such as -21.1 are left as they are: a
  number runs nothing. The imports take the quote off again (`restore`), so that export → import gives the
  original text back, a name starting with "-" or "=" included. A CSV handed to a person (`csv_file`) is what
  French Excel opens as it is: UTF-8 with a byte-order mark (without it Excel reads « Ã© » for « é »), `;`
  between cells, decimal commas. `xlsx_file`, the one XLSX writer, writes the same rows typed (dates, times,
  numbers) and every text as a text cell, never a formula: one that looks like a formula (the same rule) is
  marked as Excel marks a text typed with a leading quote (quotePrefix), its text intact.
- Reading (`read_rows`): within limits checked before anything large is built (the file's size, its rows, its
  columns, each cell, and for XLSX the uncompressed size declared by the archive, checked before openpyxl opens
  it: Python's zipfile never inflates an entry beyond the size its directory declares, so a zip bomb is refused
  from its directory alone). Rows are streamed; a file that is neither UTF-8 nor Windows-1252, a cell too long
  for the csv module, a damaged workbook, each becomes an `ImportFileError` with a French sentence.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from flask_babel import format_decimal
from flask_babel import gettext as _

from app.domain.text import clean_text

MEGABYTE = 1024 * 1024
# What a spreadsheet reads as the start of a formula (OWASP: = + - @, tab, carriage return), after any quotes
# already there: a text that starts with quotes and then one of them is quoted once more, so that `restore` is
# the exact inverse of `neutralise`.
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_XLSX_MAX_ENTRIES = 1000  # a workbook of one sheet holds a dozen parts
BOM = "\ufeff"  # the byte-order mark by which Excel knows a CSV file is UTF-8
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters an XLSX cannot hold
_XLSX_FORMATS = {datetime: "dd/mm/yyyy hh:mm", date: "dd/mm/yyyy", time: "hh:mm"}
_XLSX_WIDTH = (6, 60)  # a column's width in characters, at least and at most


class ImportFileError(ValueError):
    """The file cannot be read at all (size, format, encoding, header): the message says why, in French."""


@dataclass(frozen=True)
class TableLimits:
    """What one import accepts; each import declares its own."""

    max_bytes: int
    max_rows: int
    max_cell_chars: int
    max_columns: int = 60
    max_unpacked_bytes: int = 50 * MEGABYTE  # XLSX: the sum of the sizes its directory declares


# -- writing ------------------------------------------------------------------------------------------


def looks_like_formula(text: str) -> bool:
    """What a spreadsheet would take for a formula if it were typed: = + - @, a tab or a carriage return first
    (after any quotes), and not a plain number."""
    return bool(_FORMULA_START.match(text)) and not _PLAIN_NUMBER.fullmatch(text)


def neutralise(value: object) -> str:
    """The cell's text, quoted when a spreadsheet would take it for a formula; a decimal number with a comma (what
    a French spreadsheet reads as a number)."""
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    text = "" if value is None else str(value)
    return "'" + text if looks_like_formula(text) else text


def restore(text: str) -> str:
    """The text `neutralise` was given (a cell read from a file the app wrote, or typed the same way)."""
    return text[1:] if _NEUTRALISED.match(text) else text


def csv_text(rows: Iterable[Sequence[object]], *, delimiter: str = ";", lineterminator: str = "\r\n") -> str:
    """The rows (the header first) as CSV text, every cell neutralised: the one CSV writer of the app."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return out.getvalue()


def csv_file(rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file for people: what French Excel opens with its accents and columns (BOM, `;`, decimal commas)."""
    return (BOM + csv_text(rows)).encode("utf-8")


def xlsx_file(rows: Iterable[Sequence[object]], *, sheet: str) -> bytes:
    """The rows (the header first) as an Excel workbook of one sheet: the header bold, frozen and filtered, columns
    as wide as their content; a date, time or number as such (give local times, without zone: a spreadsheet has
    none), every text a text cell, never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = _XML_ILLEGAL.sub("", sheet)[:31]
    widths: dict[int, int] = {}
    bold = Font(bold=True)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            cell = worksheet.cell(row=number, column=column)
            width = _xlsx_value(cell, value)
            widths[column] = max(widths.get(column, 0), width)
            if number == 1:
                cell.font = bold
    for column, width in widths.items():
        worksheet.column_dimensions[_column_letter(column)].width = min(max(width + 2, _XLSX_WIDTH[0]),
                                                                        _XLSX_WIDTH[1])
    worksheet.freeze_panes = "A2"
    if worksheet.max_row > 1:
        worksheet.auto_filter.ref = worksheet.dimensions
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_value(cell, value: object) -> int:
    """Writes `value` into the cell with its type; returns how many characters it shows."""
    if value is None:
        return 0
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int | float):
        cell.value = value
        return len(str(value))
    for kind, number_format in _XLSX_FORMATS.items():
        if isinstance(value, kind):
            cell.value = value.replace(tzinfo=None) if isinstance(value, datetime | time) else value
            cell.number_format = number_format
            return len(number_format)
    text = _XML_ILLEGAL.sub("", str(value))
    cell.value = text
    cell.data_type = "s"  # openpyxl makes a text starting with "=" a formula: it stays a text
    if looks_like_formula(text):
        cell.quotePrefix = True  # as Excel writes a text typed after a quote: shown as typed, never run
    return max((len(line) for line in text.splitlines()), default=0)


def _column_letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


# -- reading ------------------------------------------------------------------------------------------


def clean_cell(text: str) -> str:
    """A cell's text as the app keeps it: its quote taken off, NFC, no control characters, no surrounding blanks."""
    return clean_text(restore(text))


def check_size(size: int, limits: TableLimits) -> None:
    if size > limits.max_bytes:
        raise ImportFileError(_("Le fichier pèse %(size)s Mo : cet import accepte %(limit)s Mo au plus. "
                                "Découpez-le en plusieurs fichiers.", size=_megabytes(size),
                                limit=_megabytes(limits.max_bytes)))


def read_rows(filename: str, content: bytes, limits: TableLimits, encodings: Sequence[str] = ("utf-8-sig", "cp1252"),
              delimiter: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """(line number, cleaned cells) of each row of a CSV or XLSX file, the header first (line 1), streamed and
    checked against the limits; raises ImportFileError. Close it (`contextlib.closing`) when stopping early."""
    check_size(len(content), limits)
    if Path(filename).suffix.lower() == ".xlsx":
        return _xlsx_rows(content, limits)
    return csv_rows(decode(content, encodings), limits, delimiter)


def decode(content: bytes, encodings: Sequence[str]) -> str:
    """The file's text in the first encoding that reads it whole; else where it stops being text, in French."""
    failure = None
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError as error:
            failure = error  # the last, most lenient encoding's: where the file stops being text at all
    line = content.count(b"\n", 0, failure.start) + 1
    byte = f"0x{content[failure.start]:02X}"
    if len(encodings) > 1:
        message = _("Ligne %(line)s : le fichier n'est lisible ni en UTF-8 ni en Windows-1252 (octet %(byte)s). "
                    "Enregistrez-le au format « CSV UTF-8 » et recommencez.", line=line, byte=byte)
    else:
        message = _("Ligne %(line)s : le fichier n'est pas en UTF-8 (octet %(byte)s). Enregistrez-le en UTF-8 et "
                    "recommencez.", line=line, byte=byte)
    raise ImportFileError(message)


def csv_rows(text: str, limits: TableLimits, delimiter: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """The rows of CSV text; the delimiter is `;` or `,`, whichever the first line has more of, unless given."""
    text = text.removeprefix("\ufeff")
    if delimiter is None:
        end = text.find("\n")
        first_line = text[:end] if end >= 0 else text
        delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line, count = 1, 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # "field larger than field limit (131072)", and the like
            if "field larger" in str(error):
                raise ImportFileError(_cell_too_long(line, limits)) from None
            raise ImportFileError(_("Ligne %(line)s : le fichier CSV est mal formé (%(error)s).", line=line,
                                    error=error)) from None
        count += 1
        _check_row(line, count, values, limits)
        yield line, [clean_cell(value) for value in values]
        line = reader.line_num + 1  # a quoted value may span several lines


def _check_row(line: int, count: int, values: Sequence, limits: TableLimits) -> None:
    if count > limits.max_rows + 1:  # the header, then the rows
        raise ImportFileError(_("Le fichier compte plus de %(limit)s lignes : cet import n'en accepte pas plus. "
                                "Découpez-le en plusieurs fichiers.", limit=format_decimal(limits.max_rows)))
    if len(values) > limits.max_columns:
        raise ImportFileError(_("Ligne %(line)s : plus de %(limit)s colonnes.", line=line, limit=limits.max_columns))
    if any(isinstance(value, str) and len(value) > limits.max_cell_chars for value in values):
        raise ImportFileError(_cell_too_long(line, limits))


def _cell_too_long(line: int, limits: TableLimits) -> str:
    return _("Ligne %(line)s : une cellule dépasse %(limit)s caractères, bien plus qu'aucune colonne n'en demande. "
             "Vérifiez le fichier (guillemets non refermés ?).", line=line, limit=format_decimal(limits.max_cell_chars))


def check_xlsx_archive(content: bytes, limits: TableLimits) -> None:
    """Refuses, from the archive's directory alone, a workbook that would inflate beyond the limit."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise ImportFileError(_unreadable_xlsx()) from None
    unpacked = sum(entry.file_size for entry in entries)
    if len(entries) > _XLSX_MAX_ENTRIES or unpacked > limits.max_unpacked_bytes:
        raise ImportFileError(_("Ce classeur XLSX ferait %(size)s Mo une fois décompressé : cet import accepte "
                                "%(limit)s Mo au plus. Enregistrez la feuille en CSV, ou découpez-la.",
                                size=_megabytes(unpacked), limit=_megabytes(limits.max_unpacked_bytes)))


def _xlsx_rows(content: bytes, limits: TableLimits) -> Iterator[tuple[int, list[str]]]:
    check_xlsx_archive(content, limits)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 (openpyxl raises many kinds for a damaged file)
        raise ImportFileError(_unreadable_xlsx()) from None
    try:
        sheet = workbook.worksheets[0]
        # One column more than allowed is read, to see that there are too many; rows stop one past the limit.
        rows = sheet.iter_rows(max_col=limits.max_columns + 1, max_row=limits.max_rows + 2, values_only=True)
        for line, values in enumerate(rows, start=1):
            cells = list(values)
            while cells and cells[-1] is None:
                cells.pop()
            texts = [_cell_text(value) for value in cells]
            _check_row(line, line, texts, limits)
            yield line, [clean_cell(text) for text in texts]
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 (a damaged part found while reading: bad XML, bad CRC…)
        raise ImportFileError(_unreadable_xlsx()) from None
    finally:
        workbook.close()


def _unreadable_xlsx() -> str:
    return _("Le fichier XLSX est illisible ou endommagé : ouvrez-le dans votre tableur, enregistrez-le de nouveau "
             "(ou en CSV) et recommencez.")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _megabytes(size: int) -> str:
    return format_decimal(round(size / MEGABYTE, 1))
