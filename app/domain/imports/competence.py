"""Import of the ministry's "Compétence territoriale gendarmerie et police nationales" table.

The file is `;`-separated UTF-8 (with or without BOM), one row per commune, with the columns
code_commune;libelle_commune;institution;id_service;service;code_postal;codes_postaux. Every line is
checked before anything is written: one bad line and nothing changes, so that the table is never
half-updated. Re-importing the same file changes nothing (upsert keyed by INSEE code).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.imports.tables import MEGABYTE, ImportFileError, TableLimits, check_size, csv_rows, csv_text, decode
from app.domain.reference import departement_for_commune, departements_by_code
from app.models import CommuneCompetence, Force

COLUMNS = ("code_commune", "libelle_commune", "institution", "id_service", "service", "code_postal",
           "codes_postaux")
INSTITUTIONS = {"PN": Force.POLICE, "GN": Force.GENDARMERIE}
_POSTCODE = re.compile(r"^\d{5}$")
# France has about 35,000 communes: one row each, of about a hundred characters.
LIMITS = TableLimits(max_bytes=50 * MEGABYTE, max_rows=100_000, max_cell_chars=1_000)


@dataclass
class LineError:
    line: int | None  # None: the file as a whole (its reason names the line where reading stopped, if any)
    reason: str

    def __str__(self) -> str:
        return self.reason if self.line is None else f"Ligne {self.line} : {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class CompetenceRow:
    insee_code: str
    name: str
    departement_code: str
    force: Force
    service_id: str | None
    service_name: str | None
    postcode: str | None
    postcodes: str | None


def read_competence_file(path: str | Path, limits: TableLimits = LIMITS) -> str:
    """The file's text (UTF-8, a BOM dropped); ImportFileError, in French, for a file too big or not UTF-8."""
    path = Path(path)
    check_size(path.stat().st_size, limits)
    return decode(path.read_bytes(), ("utf-8-sig",))


def count_data_lines(text: str) -> int:
    return max(text.count("\n") - (1 if text.endswith("\n") else 0), 0)


def parse_row(values: dict[str, str]) -> CompetenceRow:
    """One row of the file, checked; raises ValueError with a French reason."""
    insee = (values.get("code_commune") or "").strip().upper()
    if not insee:
        raise ValueError("le code commune (code_commune) est vide.")
    try:
        departement = departement_for_commune(insee)
    except ValueError:
        raise ValueError(f"le code commune « {insee} » n'est pas un code INSEE (5 caractères).") from None
    if departement not in departements_by_code():
        raise ValueError(f"le code commune « {insee} » désigne un département inconnu ({departement}).")
    name = (values.get("libelle_commune") or "").strip()
    if not name:
        raise ValueError("le nom de la commune (libelle_commune) est vide.")
    institution = (values.get("institution") or "").strip().upper()
    if institution not in INSTITUTIONS:
        raise ValueError(f"institution « {institution} » inconnue : PN (police) ou GN (gendarmerie) attendu.")
    postcode = (values.get("code_postal") or "").strip() or None
    if postcode is not None and not _POSTCODE.fullmatch(postcode):
        raise ValueError(f"le code postal « {postcode} » doit compter 5 chiffres.")
    postcodes_raw = (values.get("codes_postaux") or "").strip()
    postcodes = [code.strip() for code in postcodes_raw.split("-") if code.strip()]
    for code in postcodes:
        if not _POSTCODE.fullmatch(code):
            raise ValueError(f"le code postal « {code} » de codes_postaux doit compter 5 chiffres.")
    if postcode is None and postcodes:
        postcode = postcodes[0]
    return CompetenceRow(
        insee_code=insee, name=name[:120], departement_code=departement, force=INSTITUTIONS[institution],
        service_id=(values.get("id_service") or "").strip()[:40] or None,
        service_name=(values.get("service") or "").strip()[:200] or None,
        postcode=postcode, postcodes="-".join(postcodes) or postcode)


def parse_competence(text: str, progress: Callable[[int], None] | None = None, limits: TableLimits = LIMITS
                      ) -> tuple[list[CompetenceRow], list[LineError]]:
    """Every row of the file, or the reasons why some lines are wrong (line 1 is the header)."""
    rows: list[CompetenceRow] = []
    errors: list[LineError] = []
    try:
        with closing(csv_rows(text, limits, delimiter=";")) as lines:
            header = [name.lower() for name in next(lines, (1, []))[1]]
            missing = [column for column in COLUMNS if column not in header]
            if missing:
                return [], [LineError(1, "colonnes manquantes dans l'en-tête : " + ", ".join(missing)
                                      + " (séparateur attendu : point-virgule).")]
            seen: dict[str, int] = {}
            for line, cells in lines:
                if progress:
                    progress(1)
                if not any(cells):
                    continue  # blank line
                if len(cells) > len(header):
                    errors.append(LineError(line, f"trop de colonnes ({len(COLUMNS)} attendues)."))
                    continue
                try:
                    row = parse_row(dict(zip(header, cells, strict=False)))
                except ValueError as error:
                    errors.append(LineError(line, str(error)))
                    continue
                if row.insee_code in seen:
                    errors.append(LineError(line, f"la commune {row.insee_code} figure déjà ligne "
                                                  f"{seen[row.insee_code]}."))
                    continue
                seen[row.insee_code] = line
                rows.append(row)
    except ImportFileError as error:  # the file stops being readable there: its message names the line
        errors.append(LineError(None, str(error)))
    return rows, errors


def import_competence(session: Session, text: str, progress: Callable[[int], None] | None = None) -> ImportReport:
    """Checks the whole file, then creates or updates one row per commune; the caller commits.

    With any bad line, nothing is written and the report lists the errors.
    """
    rows, errors = parse_competence(text, progress)
    report = ImportReport(errors=errors)
    if errors:
        return report
    existing = {commune.insee_code: commune for commune in session.scalars(select(CommuneCompetence))}
    fields = ("name", "departement_code", "force", "service_id", "service_name", "postcode", "postcodes")
    for row in rows:
        commune = existing.get(row.insee_code)
        if commune is None:
            session.add(CommuneCompetence(insee_code=row.insee_code, **{name: getattr(row, name) for name in fields}))
            report.created += 1
            continue
        changed = False
        for name in fields:
            if getattr(commune, name) != getattr(row, name):
                setattr(commune, name, getattr(row, name))
                changed = True
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    return report


def write_competence_csv(rows: Iterable[dict[str, str]], with_bom: bool = True) -> str:
    """A table in the ministry's format (used by the demo data and the tests)."""
    text = csv_text([COLUMNS, *([row.get(column, "") for column in COLUMNS] for row in rows)], lineterminator="\n")
    return ("\ufeff" if with_bom else "") + text
