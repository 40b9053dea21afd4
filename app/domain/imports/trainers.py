"""Import and export of the trainer roster (CSV, or XLSX on import), with the same columns both ways.

Trainers are created or updated by (force, matricule). Every row is validated first, each bad row is
reported with its line number and a French reason, and nothing is written unless the whole file is
valid; a dry run says what would be created, updated or left unchanged. Export → import → export
gives the same file, because both directions go through the same canonical row (`trainer_row`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.domain.clock import utcnow
from app.domain.feeds import refresh_events_of_trainers
from app.domain.imports.tables import MEGABYTE, ImportFileError, TableLimits, csv_text, read_rows
from app.domain.policies import TRAINERS, covers
from app.models import Audience, Departement, Force, Role, Topic, Trainer, Unit, UnitKind, User
from app.models.accounts import normalize_email

COLUMNS = (
    "force", "matricule", "grade", "nom", "email", "telephone",
    "unite", "type_unite", "departement_unite", "commune_unite", "latitude_unite", "longitude_unite",
    "departements", "themes", "publics", "formation_initiale", "dernier_recyclage",
    "max_seances_semaine", "max_seances_mois", "distance_max_km", "binome", "langues", "actif",
    "motif_inactivite",
)
NAMED_IN_EVENTS = {"grade", "nom", "email"}  # what calendar events say of a trainer
OPTIONAL = {"telephone", "dernier_recyclage", "motif_inactivite", "langues"}
LIST_SEPARATOR = "|"
DELIMITER = ";"  # what French spreadsheet software writes and reads
FORCE_NAMES = {"police": Force.POLICE, "pn": Force.POLICE, "police nationale": Force.POLICE, "pfad": Force.POLICE,
               "gendarmerie": Force.GENDARMERIE, "gn": Force.GENDARMERIE, "gendarmerie nationale": Force.GENDARMERIE,
               "frad": Force.GENDARMERIE}
TRUE_WORDS = {"oui", "o", "vrai", "true", "1", "yes"}
FALSE_WORDS = {"non", "n", "faux", "false", "0", "no"}
MATRICULE_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,20}$")
EARLIEST_DATE = date(1970, 1, 1)  # as the forms' dates (app.converters): older is a typing error
Progress = Callable[[int, int], None]
# A national roster is a few thousand rows of a few hundred characters; a page's upload stops at
# MAX_CONTENT_LENGTH before this.
LIMITS = TableLimits(max_bytes=20 * MEGABYTE, max_rows=10_000, max_cell_chars=2_000)


@dataclass
class RowError:
    line: int
    messages: list[str]


@dataclass
class RowChange:
    line: int
    force: str
    matricule: str
    name: str
    changed_columns: list[str] = field(default_factory=list)
    pending_email: str | None = None  # a new login address, written once its owner confirms it


@dataclass
class ImportReport:
    dry_run: bool
    created: list[RowChange] = field(default_factory=list)
    updated: list[RowChange] = field(default_factory=list)
    unchanged: list[RowChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run


# -- reading files ------------------------------------------------------------------------------------


def read_table(filename: str, content: bytes, limits: TableLimits = LIMITS) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) for each non-empty row of a CSV or XLSX file; the header is line 1."""
    with closing(read_rows(filename, content, limits)) as rows:
        try:
            _line, header = next(rows)
        except StopIteration:
            raise ImportFileError(_("Le fichier est vide.")) from None
        header = [_normalize_header(name) for name in header]
        missing = [name for name in COLUMNS if name not in header]
        unknown = [name for name in header if name and name not in COLUMNS]
        if missing or unknown:
            problems = []
            if missing:
                problems.append(_("colonnes manquantes : %(names)s", names=", ".join(missing)))
            if unknown:
                problems.append(_("colonnes inconnues : %(names)s", names=", ".join(unknown)))
            raise ImportFileError(_("Ligne 1 (en-tête) : %(problems)s. Colonnes attendues : %(expected)s.",
                                    problems=" ; ".join(problems), expected=DELIMITER.join(COLUMNS)))
        table = []
        for line, values in rows:
            if not any(values):
                continue
            padded = list(values) + [""] * (len(header) - len(values))
            table.append((line, {name: padded[index] for index, name in enumerate(header) if name}))
    return table


def _normalize_header(name: str) -> str:
    return name.strip().lower().lstrip("\ufeff")


# -- the canonical row --------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _yes_no(value: bool) -> str:
    return "oui" if value else "non"


def trainer_row(trainer: Trainer) -> dict[str, str]:
    """The trainer as a row of the file: what export writes and what import compares with."""
    unit = trainer.unit
    return {
        "force": trainer.force.value, "matricule": trainer.matricule, "grade": trainer.rank,
        "nom": trainer.user.full_name, "email": trainer.user.email, "telephone": trainer.user.phone or "",
        "unite": unit.name, "type_unite": unit.kind.value, "departement_unite": unit.departement_code,
        "commune_unite": unit.commune_name, "latitude_unite": _number(unit.latitude),
        "longitude_unite": _number(unit.longitude),
        "departements": LIST_SEPARATOR.join(sorted(d.code for d in trainer.departements)),
        "themes": LIST_SEPARATOR.join(t.code for t in sorted(trainer.topics, key=lambda t: (t.position, t.code))),
        "publics": LIST_SEPARATOR.join(a.code for a in sorted(trainer.audiences, key=lambda a: (a.position, a.code))),
        "formation_initiale": trainer.initial_training_on.isoformat(),
        "dernier_recyclage": trainer.last_refresher_on.isoformat() if trainer.last_refresher_on else "",
        "max_seances_semaine": str(trainer.max_sessions_per_week),
        "max_seances_mois": str(trainer.max_sessions_per_month),
        "distance_max_km": str(trainer.max_distance_km), "binome": _yes_no(trainer.accepts_pair_work),
        "langues": trainer.languages, "actif": _yes_no(trainer.active),
        "motif_inactivite": trainer.inactive_reason or "",
    }


# -- export -------------------------------------------------------------------------------------------


def export_trainers(session: Session, trainers_query) -> str:
    """CSV text of the trainers the query selects (callers restrict it to the user's scope)."""
    trainers = session.scalars(
        trainers_query.options(selectinload(Trainer.departements), selectinload(Trainer.topics),
                               selectinload(Trainer.audiences))
        .order_by(Trainer.force, Trainer.matricule)).all()
    rows = ([row[column] for column in COLUMNS] for row in map(trainer_row, trainers))
    return csv_text(itertools.chain([COLUMNS], rows), delimiter=DELIMITER)


# -- validation ---------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case- and accent-insensitive key, so that « Élèves de 6e » matches « eleves de 6e »."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@dataclass
class _Lookups:
    departements: set[str]
    topics: dict[str, Topic]
    audiences: dict[str, Audience]
    units: dict[str, Unit]
    trainers: dict[tuple[str, str], Trainer]
    users: dict[str, User]
    units_shared_outside: set[int]  # units of the file with a trainer outside the importer's scope
    users_with_a_record: set[int]  # accounts of the file's addresses that already have a trainer record


def _load_lookups(session: Session, rows: list[tuple[int, dict[str, str]]], actor: User | None) -> _Lookups:
    topics: dict[str, Topic] = {}
    for topic in session.scalars(select(Topic)):
        topics[_fold(topic.code)] = topic
        topics[_fold(topic.label_fr)] = topic
    audiences: dict[str, Audience] = {}
    for audience in session.scalars(select(Audience)):
        audiences[_fold(audience.code)] = audience
        audiences[_fold(audience.label_fr)] = audience
    matricules = sorted({row["matricule"] for _, row in rows if row["matricule"]})
    emails = sorted({normalize_email(row["email"]) for _, row in rows if row["email"]})
    trainers: dict[tuple[str, str], Trainer] = {}
    users: dict[str, User] = {}
    for chunk in _chunks(matricules):
        for trainer in session.scalars(
                select(Trainer).where(Trainer.matricule.in_(chunk))
                .options(selectinload(Trainer.departements), selectinload(Trainer.topics),
                         selectinload(Trainer.audiences))):
            trainers[(trainer.force.value, trainer.matricule)] = trainer
    for chunk in _chunks(emails):
        for user in session.scalars(select(User).where(User.email.in_(chunk))):
            users[user.email] = user
    unit_names = sorted({row["unite"] for _, row in rows if row["unite"]})
    units = {}
    for chunk in _chunks(unit_names):
        units.update({unit.name: unit for unit in session.scalars(select(Unit).where(Unit.name.in_(chunk)))})
    shared_outside: set[int] = set()
    if actor is not None:
        for chunk in _chunks(sorted(unit.id for unit in units.values())):
            shared_outside.update(session.scalars(select(Trainer.unit_id).distinct().where(
                Trainer.unit_id.in_(chunk), ~TRAINERS.rows(actor))))
    with_a_record: set[int] = set()
    for chunk in _chunks(sorted(user.id for user in users.values())):
        with_a_record.update(session.scalars(select(Trainer.user_id).where(Trainer.user_id.in_(chunk))))
    return _Lookups(set(session.scalars(select(Departement.code))), topics, audiences, units, trainers, users,
                    shared_outside, with_a_record)


def _chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass
class _ParsedRow:
    line: int
    canonical: dict[str, str]
    force: Force
    departements: list[str]
    topics: list[Topic]
    audiences: list[Audience]


def _parse_date(text: str, label: str, errors: list[str], today: date) -> date | None:
    try:
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
            day, month, year = (int(part) for part in text.split("/"))
            value = date(year, month, day)
        else:
            value = date.fromisoformat(text)
    except ValueError:
        errors.append(_("%(column)s : date invalide « %(value)s » (attendu AAAA-MM-JJ ou JJ/MM/AAAA).",
                        column=label, value=text))
        return None
    if value > today:
        errors.append(_("%(column)s : la date %(value)s est dans le futur.", column=label, value=text))
    elif value < EARLIEST_DATE:
        errors.append(_("%(column)s : la date %(value)s est antérieure à 1970.", column=label, value=text))
    return value


def _parse_int(text: str, label: str, low: int, high: int, errors: list[str]) -> int | None:
    try:
        value = int(text)
    except ValueError:
        errors.append(_("%(column)s : nombre entier attendu, « %(value)s » reçu.", column=label, value=text))
        return None
    if not low <= value <= high:
        errors.append(_("%(column)s : %(value)s hors des limites (%(low)s à %(high)s).", column=label, value=value,
                        low=low, high=high))
        return None
    return value


def _parse_bool(text: str, label: str, errors: list[str]) -> bool | None:
    word = _fold(text)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    errors.append(_("%(column)s : « oui » ou « non » attendu, « %(value)s » reçu.", column=label, value=text))
    return None


def _parse_float(text: str, label: str, low: float, high: float, errors: list[str]) -> float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        errors.append(_("%(column)s : nombre attendu, « %(value)s » reçu.", column=label, value=text))
        return None
    if not low <= value <= high:
        errors.append(_("%(column)s : %(value)s hors des limites.", column=label, value=text))
        return None
    return value


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[|,]", text) if part.strip()]


def _parse_row(line: int, row: dict[str, str], lookups: _Lookups, today: date, errors: list[str]
               ) -> _ParsedRow | None:
    for column in COLUMNS:
        if column not in OPTIONAL and not row[column]:
            errors.append(_("%(column)s : valeur obligatoire manquante.", column=column))
    if errors:
        return None
    canonical = dict(row)
    force = FORCE_NAMES.get(_fold(row["force"]))
    if force is None:
        errors.append(_("force : « %(value)s » inconnue (police ou gendarmerie).", value=row["force"]))
    else:
        canonical["force"] = force.value
    if not MATRICULE_PATTERN.match(row["matricule"]):
        errors.append(_("matricule : « %(value)s » invalide (lettres, chiffres et tirets, 20 caractères au plus).",
                        value=row["matricule"]))
    for column, limit in (("grade", 60), ("nom", 120), ("telephone", 30), ("unite", 200), ("commune_unite", 120),
                          ("langues", 120), ("motif_inactivite", 200)):
        if len(row[column]) > limit:
            errors.append(_("%(column)s : %(limit)s caractères au plus.", column=column, limit=limit))
    try:
        canonical["email"] = normalize_email(
            validate_email(row["email"], check_deliverability=False).normalized)
    except EmailNotValidError:
        errors.append(_("email : adresse « %(value)s » invalide.", value=row["email"]))
    try:
        canonical["type_unite"] = UnitKind(_fold(row["type_unite"])).value
    except ValueError:
        errors.append(_("type_unite : « %(value)s » inconnu (valeurs possibles : %(values)s).",
                        value=row["type_unite"], values=", ".join(kind.value for kind in UnitKind)))
    unit_departement = row["departement_unite"].upper()
    if unit_departement not in lookups.departements:
        errors.append(_("departement_unite : département « %(value)s » inconnu.", value=row["departement_unite"]))
    canonical["departement_unite"] = unit_departement
    latitude = _parse_float(row["latitude_unite"], "latitude_unite", -90, 90, errors)
    longitude = _parse_float(row["longitude_unite"], "longitude_unite", -180, 180, errors)
    if latitude is not None and longitude is not None:
        canonical["latitude_unite"], canonical["longitude_unite"] = _number(latitude), _number(longitude)

    departements = sorted({code.upper() for code in _split(row["departements"])})
    unknown = [code for code in departements if code not in lookups.departements]
    if unknown:
        errors.append(ngettext("departements : département inconnu : %(codes)s.",
                               "departements : départements inconnus : %(codes)s.", len(unknown),
                               codes=", ".join(unknown)))
    canonical["departements"] = LIST_SEPARATOR.join(departements)
    topics, unknown = [], []
    for name in _split(row["themes"]):
        topic = lookups.topics.get(_fold(name))
        (topics.append(topic) if topic else unknown.append(name))
    if unknown:
        errors.append(ngettext("themes : thème inconnu : %(names)s.", "themes : thèmes inconnus : %(names)s.",
                               len(unknown), names=", ".join(unknown)))
    topics = sorted(set(topics), key=lambda t: (t.position, t.code))
    canonical["themes"] = LIST_SEPARATOR.join(t.code for t in topics)
    audiences, unknown = [], []
    for name in _split(row["publics"]):
        audience = lookups.audiences.get(_fold(name))
        (audiences.append(audience) if audience else unknown.append(name))
    if unknown:
        errors.append(ngettext("publics : public inconnu : %(names)s.", "publics : publics inconnus : %(names)s.",
                               len(unknown), names=", ".join(unknown)))
    audiences = sorted(set(audiences), key=lambda a: (a.position, a.code))
    canonical["publics"] = LIST_SEPARATOR.join(a.code for a in audiences)

    initial = _parse_date(row["formation_initiale"], "formation_initiale", errors, today)
    if initial:
        canonical["formation_initiale"] = initial.isoformat()
    if row["dernier_recyclage"]:
        refresher = _parse_date(row["dernier_recyclage"], "dernier_recyclage", errors, today)
        if refresher:
            canonical["dernier_recyclage"] = refresher.isoformat()
            if initial and refresher < initial:
                errors.append(_("dernier_recyclage : antérieur à la formation initiale."))
    per_week = _parse_int(row["max_seances_semaine"], "max_seances_semaine", 1, 20, errors)
    per_month = _parse_int(row["max_seances_mois"], "max_seances_mois", 1, 60, errors)
    if per_week is not None and per_month is not None and per_week > per_month:
        errors.append(_("max_seances_semaine : supérieur au maximum par mois."))
    distance = _parse_int(row["distance_max_km"], "distance_max_km", 1, 1000, errors)
    for column, value in (("max_seances_semaine", per_week), ("max_seances_mois", per_month),
                          ("distance_max_km", distance)):
        if value is not None:
            canonical[column] = str(value)
    pair = _parse_bool(row["binome"], "binome", errors)
    active = _parse_bool(row["actif"], "actif", errors)
    if pair is not None:
        canonical["binome"] = _yes_no(pair)
    if active is not None:
        canonical["actif"] = _yes_no(active)
        if not active and not row["motif_inactivite"]:
            errors.append(_("motif_inactivite : obligatoire pour un formateur inactif (mutation, congé long…)."))
        if active:
            canonical["motif_inactivite"] = ""
    canonical["langues"] = row["langues"] or "français"
    if errors:
        return None
    return _ParsedRow(line, canonical, force, departements, topics, audiences)


# -- import -------------------------------------------------------------------------------------------


def import_trainers(session: Session, rows: list[tuple[int, dict[str, str]]], *, actor: User | None,
                    today: date, dry_run: bool = False, progress: Progress | None = None,
                    on_created: Callable[[User], None] | None = None,
                    on_email_change: Callable[[User, str], None] | None = None) -> ImportReport:
    """Validates every row, then (unless dry run or any error) creates or updates the trainers.

    `actor` is the coordinator or admin importing (None for the command line, which may do anything); a
    coordinator touches only trainers and units of their scope, each refusal on its line. `on_created` is called
    for each new account (to send the activation e-mail); a new login address of an existing account is never
    written here: `on_email_change(user, new_address)` asks its owner to confirm it (app.domain.email_change).
    The caller commits.
    """
    report = ImportReport(dry_run=dry_run)
    lookups = _load_lookups(session, rows, actor)
    total = len(rows) * 2
    parsed_rows: list[_ParsedRow] = []
    seen_keys: dict[tuple[str, str], int] = {}
    seen_emails: dict[str, int] = {}
    seen_units: dict[str, tuple[int, tuple]] = {}
    for done, (line, row) in enumerate(rows, start=1):
        errors: list[str] = []
        parsed = _parse_row(line, row, lookups, today, errors)
        if parsed:
            _check_row_against_file_and_base(parsed, actor, lookups, seen_keys, seen_emails, seen_units, errors)
        if errors:
            report.errors.append(RowError(line, errors))
        else:
            parsed_rows.append(parsed)
        if progress:
            progress(done, total)
    if report.errors or dry_run:
        if report.ok:
            for parsed in parsed_rows:
                _classify(parsed, lookups, report)
        if progress:
            progress(total, total)
        return report
    for done, parsed in enumerate(parsed_rows, start=len(rows) + 1):
        with session.no_autoflush:  # a half-built trainer must not be flushed by a lookup
            _apply(session, parsed, lookups, actor, report, on_created, on_email_change)
        if progress:
            progress(done, total)
    session.flush()
    renamed = [lookups.trainers[(change.force, change.matricule)].id for change in report.updated
               if NAMED_IN_EVENTS & set(change.changed_columns)]
    refresh_events_of_trainers(session, renamed, utcnow())
    return report


def _check_row_against_file_and_base(parsed: _ParsedRow, actor: User | None, lookups: _Lookups,
                                     seen_keys: dict, seen_emails: dict, seen_units: dict,
                                     errors: list[str]) -> None:
    row = parsed.canonical
    key = (row["force"], row["matricule"])
    if key in seen_keys:
        errors.append(_("matricule %(matricule)s (%(force)s) déjà présent à la ligne %(line)s.",
                        matricule=row["matricule"], force=row["force"], line=seen_keys[key]))
    seen_keys.setdefault(key, parsed.line)
    if row["email"] in seen_emails:
        errors.append(_("email : adresse déjà utilisée à la ligne %(line)s.", line=seen_emails[row["email"]]))
    seen_emails.setdefault(row["email"], parsed.line)
    unit_values = _unit_description(row) + (row["force"],)
    if row["unite"] in seen_units and seen_units[row["unite"]][1] != unit_values:
        errors.append(_("unite : « %(name)s » est décrite autrement à la ligne %(line)s.", name=row["unite"],
                        line=seen_units[row["unite"]][0]))
    seen_units.setdefault(row["unite"], (parsed.line, unit_values))
    unit = lookups.units.get(row["unite"])
    if unit is not None and unit.force is not parsed.force:
        errors.append(_("unite : « %(name)s » est une unité de la %(force)s.", name=unit.name,
                        force=_("police") if unit.force is Force.POLICE else _("gendarmerie")))

    existing = lookups.trainers.get(key)
    if actor is not None:
        if existing is not None and not TRAINERS.allows(actor, "edit", existing):
            errors.append(_("formateur hors de votre périmètre : vous ne pouvez pas le modifier."))
            return
        _check_scope(parsed, actor, existing, unit, lookups, errors)
    owner = lookups.users.get(row["email"])
    if owner is not None:
        is_same = existing is not None and existing.user_id == owner.id
        is_free_trainer_account = (existing is None and owner.role is Role.TRAINER
                                   and owner.id not in lookups.users_with_a_record)
        if not (is_same or is_free_trainer_account):
            errors.append(_("email : l'adresse %(email)s appartient déjà à un autre compte.", email=row["email"]))


def _check_scope(parsed: _ParsedRow, actor: User, existing: Trainer | None, unit: Unit | None, lookups: _Lookups,
                 errors: list[str]) -> None:
    """What a coordinator may write: the départements of their scope, and units of their scope that no trainer
    of another scope shares. A trainer's départements outside the scope may stay; the coordinator neither adds
    nor removes one, nor takes the trainer out of their scope."""
    row, force = parsed.canonical, parsed.force
    if existing is None:
        if not all(covers(actor, code, force, undecided=False) for code in parsed.departements):
            errors.append(_("departements : vous ne coordonnez pas tous ces départements pour cette force "
                            "(%(codes)s).", codes=", ".join(parsed.departements)))
    else:
        touched = sorted(set(parsed.departements) ^ {d.code for d in existing.departements})
        outside = [code for code in touched if not covers(actor, code, force, undecided=False)]
        if outside:
            errors.append(_("departements : vous ne coordonnez pas %(codes)s pour cette force : ces départements ne "
                            "peuvent être ni ajoutés ni retirés par votre import.", codes=", ".join(outside)))
        elif not TRAINERS.serves_scope(actor, force, parsed.departements):
            errors.append(_("departements : au moins un des départements doit relever de votre périmètre."))
    if unit is None:
        if not covers(actor, row["departement_unite"], force, undecided=False):
            errors.append(_("unite : « %(name)s » n'existe pas encore et vous ne pouvez créer une unité que dans un "
                            "département de votre périmètre (pas %(code)s).", name=row["unite"],
                            code=row["departement_unite"]))
    elif _unit_description(row) != _unit_description(_unit_row(unit)):
        if not (covers(actor, unit.departement_code, unit.force, undecided=False)
                and covers(actor, row["departement_unite"], unit.force, undecided=False)):
            errors.append(_("unite : « %(name)s » est hors de votre périmètre : sa description (type, département, "
                            "commune, coordonnées) ne peut pas être modifiée ; reprenez celle du registre.",
                            name=unit.name))
        elif unit.id in lookups.units_shared_outside:
            errors.append(_("unite : « %(name)s » compte des formateurs hors de votre périmètre : sa description "
                            "(type, département, commune, coordonnées) ne peut pas être modifiée par votre import.",
                            name=unit.name))


def _unit_row(unit: Unit) -> dict[str, str]:
    return {"unite": unit.name, "type_unite": unit.kind.value, "departement_unite": unit.departement_code,
            "commune_unite": unit.commune_name, "latitude_unite": _number(unit.latitude),
            "longitude_unite": _number(unit.longitude)}


def _unit_description(row: dict[str, str]) -> tuple[str, ...]:
    return (row["type_unite"], row["departement_unite"], row["commune_unite"], row["latitude_unite"],
            row["longitude_unite"])


def _changes(parsed: _ParsedRow, existing: Trainer, lookups: _Lookups) -> list[str]:
    current = trainer_row(existing)
    unit = lookups.units.get(parsed.canonical["unite"])
    if unit is not None:  # moving to another existing unit compares with that unit's description
        current.update(_unit_row(unit))
    changed = [column for column in COLUMNS if current[column] != parsed.canonical[column]]
    if unit is not None and existing.unit_id != unit.id and "unite" not in changed:
        changed.insert(0, "unite")
    return changed


def _change(parsed: _ParsedRow, changed: list[str] | None = None) -> RowChange:
    row = parsed.canonical
    return RowChange(parsed.line, row["force"], row["matricule"], row["nom"], changed or [])


def _classify(parsed: _ParsedRow, lookups: _Lookups, report: ImportReport) -> list[str] | None:
    existing = lookups.trainers.get((parsed.canonical["force"], parsed.canonical["matricule"]))
    if existing is None:
        report.created.append(_change(parsed))
        return None
    changed = _changes(parsed, existing, lookups)
    change = _change(parsed, [column for column in changed if column != "email"])
    if "email" in changed:  # a login address changes only when its owner confirms it
        change.pending_email = parsed.canonical["email"]
    (report.updated if changed else report.unchanged).append(change)
    return changed


def _apply(session: Session, parsed: _ParsedRow, lookups: _Lookups, actor: User | None, report: ImportReport,
           on_created: Callable[[User], None] | None, on_email_change: Callable[[User, str], None] | None) -> None:
    row = parsed.canonical
    changed = _classify(parsed, lookups, report)
    if changed == []:
        return
    unit = lookups.units.get(row["unite"])
    if unit is None:
        unit = Unit(name=row["unite"], force=parsed.force)
        session.add(unit)
        lookups.units[unit.name] = unit
    unit.kind = UnitKind(row["type_unite"])  # the same values are no change: SQLAlchemy writes none
    unit.departement_code = row["departement_unite"]
    unit.commune_name = row["commune_unite"]
    unit.latitude, unit.longitude = float(row["latitude_unite"]), float(row["longitude_unite"])

    trainer = lookups.trainers.get((row["force"], row["matricule"]))
    new_user = None
    if trainer is None:
        user = lookups.users.get(row["email"])
        if user is None:
            new_user = user = User(email=row["email"], full_name=row["nom"], role=Role.TRAINER,
                                   invited_by_id=actor.id if actor else None)
            session.add(user)
        trainer = Trainer(user=user, force=parsed.force, matricule=row["matricule"])
        session.add(trainer)
        lookups.trainers[(row["force"], row["matricule"])] = trainer
    user = trainer.user
    user.full_name, user.phone = row["nom"], row["telephone"] or None
    if changed is not None and "email" in changed and on_email_change is not None:
        on_email_change(user, row["email"])
    trainer.rank = row["grade"]
    trainer.unit = unit
    trainer.departements = [session.get(Departement, code) for code in parsed.departements]
    trainer.topics = parsed.topics
    trainer.audiences = parsed.audiences
    trainer.initial_training_on = date.fromisoformat(row["formation_initiale"])
    trainer.last_refresher_on = date.fromisoformat(row["dernier_recyclage"]) if row["dernier_recyclage"] else None
    trainer.max_sessions_per_week = int(row["max_seances_semaine"])
    trainer.max_sessions_per_month = int(row["max_seances_mois"])
    trainer.max_distance_km = int(row["distance_max_km"])
    trainer.accepts_pair_work = row["binome"] == "oui"
    trainer.languages = row["langues"]
    trainer.active = row["actif"] == "oui"
    trainer.inactive_reason = row["motif_inactivite"] or None
    if new_user is not None and on_created is not None:
        session.flush()
        on_created(new_user)
