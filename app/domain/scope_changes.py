"""Which coordination scopes (département × force) may plan differently since a point of the audit trail (#20).

The autopilot's tick plans every scope in a planning mode, several times an hour in production; loading a scope's
problem only to find it unchanged was nine tenths of a quiet national tick (15 s for 201 scopes). Every write the
planner could read is already an entry of the audit trail, written in the transaction of the change, with its
table and row (app.domain.audit: the unit of work and the INSERT, UPDATE and DELETE statements alike), so the
trail is the change log: a tick reads the entries written since the scopes were last loaded, once for all of
them, and tells each scope whether one of them may concern it.

An entry concerns the scopes of the session, request, establishment or trainer it is about (a trainer's scopes:
each of their départements with their force, before and after the change, since a trainer's offers and absences
change their options everywhere they serve). An entry of a table the planner never reads concerns no scope; one
whose scopes cannot be told (a table not listed here, a bulk statement, a row gone without its keys) concerns every
scope: a new table is safe by default, at the price of a full load.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Assignment,
    AuditEntry,
    AvailabilityException,
    AvailabilityPattern,
    Establishment,
    Force,
    Intervention,
    RequestWindow,
    Trainer,
)
from app.models.trainers import trainer_departement

Scope = tuple[str, Force]

# Audited tables the planner never reads (its loading, the daily cap, the reasons): their changes concern no scope.
# A scope's mode is not read from the trail: `autopilot.set_mode` clears what the scope was planned from.
NOT_READ_BY_THE_PLANNER = frozenset({
    "access_token", "autopilot_setting", "caldav_connection", "calendar_feed", "commune_competence",
    "coordination_office", "coordinator_scope", "correction_request", "feedback", "join_request", "recovery_code",
    "report_correction", "report_topic", "retention_setting", "session_report", "sign_in_settings", "user_account",
    "webhook_subscription",
})
# The other tables, by what their rows are about.
ABOUT_SESSIONS = "intervention"
ABOUT_OFFERS = "assignment"
ABOUT_REQUESTS = frozenset({"intervention_request", "request_topic", "request_audience"})
ABOUT_WINDOWS = "request_window"
ABOUT_ESTABLISHMENTS = "establishment"
ABOUT_TRAINERS = frozenset({"trainer", "trainer_departement", "trainer_topic", "trainer_audience"})
ABOUT_AVAILABILITY = {"availability_pattern": AvailabilityPattern, "availability_exception": AvailabilityException}
ABOUT_UNITS = "unit"
# Beyond this many entries since the last load, every scope is read again (and the lists of ids stay short).
MOST_ENTRIES = 5000


def last_entry_id(session: Session) -> int:
    """The newest entry of the trail (0: none). Read before a scope's inputs: anything written later is newer."""
    return session.scalar(select(func.max(AuditEntry.id))) or 0


@dataclass
class ScopeChanges:
    """What the entries written after entry `after` concern: each scope's newest one, or every scope."""

    after: int
    newest: dict[Scope, int] = field(default_factory=dict)
    every_scope: bool = False  # an entry whose scopes cannot be told

    def since(self, scope: Scope, entry_id: int) -> bool:
        """Whether an entry newer than `entry_id` may change what the scope's planner reads."""
        return entry_id < self.after or self.every_scope or self.newest.get(scope, 0) > entry_id


@dataclass
class _Entry:
    id: int
    object_type: str
    object_id: int | None
    changes: dict


class _EveryScope(Exception):  # noqa: N818 -- not an error: the answer "every scope"
    pass


def scope_changes_after(session: Session, after: int) -> ScopeChanges:
    """The scopes concerned by the entries written after entry `after` (a handful of statements, whatever their
    number: one per kind of row, each for all the rows of that kind)."""
    try:
        return ScopeChanges(after, newest=_newest_entries(session, after))
    except _EveryScope:
        return ScopeChanges(after, every_scope=True)


def _newest_entries(session: Session, after: int) -> dict[Scope, int]:
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.object_type, AuditEntry.object_id, AuditEntry.changes)
        .where(AuditEntry.id > after, AuditEntry.action != "read",
               AuditEntry.object_type.not_in(NOT_READ_BY_THE_PLANNER))
        .order_by(AuditEntry.id).limit(MOST_ENTRIES + 1)).all()
    if len(rows) > MOST_ENTRIES:  # a day of imports: a full load is as quick as telling the scopes apart
        raise _EveryScope
    entries = []
    for row in rows:
        object_id = _number(row.object_id)
        if object_id is None and not _link_table(row.object_type):
            raise _EveryScope  # a bulk statement: which rows, the trail does not say
        entries.append(_Entry(row.id, row.object_type, object_id, _changes(row.changes)))

    # Each session, request, trainer and scope with the newest entry concerning it.
    sessions: dict[int, int] = defaultdict(int)
    requests: dict[int, int] = defaultdict(int)
    trainers: dict[int, int] = defaultdict(int)
    scopes: dict[Scope, int] = defaultdict(int)
    by_kind: dict[str, list[_Entry]] = defaultdict(list)
    for entry in entries:
        by_kind[entry.object_type].append(entry)

    for entry in by_kind.pop(ABOUT_SESSIONS, []):
        _newer(sessions, entry.object_id, entry.id)
        for scope in _scopes_written(entry.changes):  # a session moved: its former scope too
            _newer(scopes, scope, entry.id)
    for entry, (session_ids, trainer_ids) in _parents(session, by_kind.pop(ABOUT_OFFERS, []), Assignment,
                                                      "intervention_id", "trainer_id"):
        for session_id in session_ids:
            _newer(sessions, session_id, entry.id)
        for trainer_id in trainer_ids:
            _newer(trainers, trainer_id, entry.id)
    for kind in ABOUT_REQUESTS:
        for entry in by_kind.pop(kind, []):
            ids = {entry.object_id} if kind == "intervention_request" else _written(entry.changes, "request_id")
            if not ids:
                raise _EveryScope
            for request_id in ids:
                _newer(requests, request_id, entry.id)
    for entry, (request_ids,) in _parents(session, by_kind.pop(ABOUT_WINDOWS, []), RequestWindow, "request_id"):
        for request_id in request_ids:
            _newer(requests, request_id, entry.id)
    places = by_kind.pop(ABOUT_ESTABLISHMENTS, [])
    known = _rows(session, select(Establishment.id, Establishment.departement_code, Establishment.force),
                  Establishment.id, {e.object_id for e in places})
    for entry in places:
        found = set(_scopes_written(entry.changes))
        if entry.object_id in known and known[entry.object_id].force is not None:
            found.add((known[entry.object_id].departement_code, known[entry.object_id].force))
        for scope in found:
            _newer(scopes, scope, entry.id)
    for kind in ABOUT_TRAINERS:
        for entry in by_kind.pop(kind, []):
            # A trainer leaving a département or changing force: their former scopes are not in the trail's row.
            if kind == "trainer_departement" or (kind == "trainer" and _left_a_scope(entry.changes)):
                raise _EveryScope
            ids = {entry.object_id} if kind == "trainer" else _written(entry.changes, "trainer_id")
            if not ids:
                raise _EveryScope
            for trainer_id in ids:
                _newer(trainers, trainer_id, entry.id)
    for kind, model in ABOUT_AVAILABILITY.items():
        for entry, (trainer_ids,) in _parents(session, by_kind.pop(kind, []), model, "trainer_id"):
            for trainer_id in trainer_ids:
                _newer(trainers, trainer_id, entry.id)
    units: dict[int, int] = defaultdict(int)
    for entry in by_kind.pop(ABOUT_UNITS, []):
        _newer(units, entry.object_id, entry.id)
    if units:
        for trainer_id, unit_id in session.execute(select(Trainer.id, Trainer.unit_id)
                                                   .where(Trainer.unit_id.in_(list(units)))):
            _newer(trainers, trainer_id, units[unit_id])
    if by_kind:  # a table this module does not know: every scope
        raise _EveryScope

    if requests:
        for session_id, request_id in session.execute(select(Intervention.id, Intervention.request_id)
                                                      .where(Intervention.request_id.in_(list(requests)))):
            _newer(sessions, session_id, requests[request_id])
    if sessions:
        for session_id, code, force in session.execute(
                select(Intervention.id, Intervention.departement_code, Intervention.force)
                .where(Intervention.id.in_(list(sessions)))):
            if force is not None:
                _newer(scopes, (code, force), sessions[session_id])
    if trainers:
        for trainer_id, code, force in session.execute(
                select(trainer_departement.c.trainer_id, trainer_departement.c.departement_code, Trainer.force)
                .join(Trainer, Trainer.id == trainer_departement.c.trainer_id)
                .where(trainer_departement.c.trainer_id.in_(list(trainers)))):
            _newer(scopes, (code, force), trainers[trainer_id])
    return dict(scopes)


def _link_table(object_type: str) -> bool:
    """Tables keyed by two columns (a trainer's départements, a request's topics): their keys are in the changes."""
    return object_type in ABOUT_TRAINERS - {"trainer"} or object_type in ABOUT_REQUESTS - {"intervention_request"}


def _number(object_id: str | None) -> int | None:
    try:
        return int(object_id) if object_id is not None else None
    except ValueError:
        return None


def _changes(text: str) -> dict:
    try:
        changes = json.loads(text or "{}")
    except ValueError:
        return {}
    return changes if isinstance(changes, dict) else {}


def _written(changes: dict, column: str) -> set:
    """The values a column had before and after the change (a row created or deleted: the one it had)."""
    values = changes.get(column)
    if not isinstance(values, list):
        return set()
    return {value for value in values if value is not None}


def _scopes_written(changes: dict) -> Iterable[Scope]:
    """(département, force) pairs a row named in its changes, before and after."""
    codes, forces = _written(changes, "departement_code"), _written(changes, "force")
    for code in codes:
        for force in forces:
            try:
                yield code, Force(force)
            except ValueError:
                continue


def _left_a_scope(changes: dict) -> bool:
    """A trainer's row changed their force, or took a département off their list."""
    departements, force = changes.get("departements"), changes.get("force")
    return ((isinstance(departements, dict) and bool(departements.get("retrait")))
            or (isinstance(force, list) and force[0] is not None))


def _parents(session: Session, entries: list[_Entry], model, *columns: str
             ) -> Iterator[tuple[_Entry, tuple[set[int], ...]]]:
    """Each entry with the rows it names through each of `columns` (a session, a trainer…): from its changes,
    before and after, and from its row if it is still there (one statement for all). An entry that names none
    concerns every scope."""
    known = _rows(session, select(model.id, *(getattr(model, column) for column in columns)), model.id,
                  {e.object_id for e in entries})
    for entry in entries:
        row = known.get(entry.object_id)
        found = tuple(_written(entry.changes, column) | ({row[1 + n]} if row is not None else set())
                      for n, column in enumerate(columns))
        if not all(found):
            raise _EveryScope
        yield entry, found


def _newer(newest: dict, key, entry_id: int) -> None:
    newest[key] = max(newest[key], entry_id)


def _rows(session: Session, query, key, ids: set[int]) -> dict:
    """The rows of `query` whose `key` is one of `ids`, by it (rows deleted since are missing)."""
    if not ids:
        return {}
    return {row[0]: row for row in session.execute(query.where(key.in_(sorted(ids))))}
