"""The audit trail (#21): every change to the audited tables, and every read of personal data in bulk, recorded in
the same transaction as the change, each entry chained to the previous one by a SHA-256 hash.

One mechanism, not field by field: SQLAlchemy session events observe every write made through an ORM session —
the unit of work (inserts, updates with each changed column's before and after, deletes, and the changes of
many-to-many collections) and the INSERT, UPDATE and DELETE statements executed through the session (the
lifecycle's conditional `UPDATE … WHERE status = …`: its rows are the ids its WHERE names, `id = …` or
`id IN (…)`, else those a SELECT with the same WHERE finds just before; the values are the statement's, the
before the one the session had loaded, else read just before). Entries wait in `session.info` and are written at
`before_commit`, in one multi-row INSERT, after the chain's head is read under a lock (PostgreSQL: a
transaction-level advisory lock, held from there to the commit only; SQLite serialises writers itself). A savepoint
rolled back takes its entries with it. Secrets never enter the trail: a column whose name says it holds one
(`SECRET_COLUMN`) is written « *** ».

Who acted: a context (a `contextvars.ContextVar`), one API for every caller:

- `set_context(AuditContext(...))` returns a token for `reset_context(token)`; `acting(context)` is the same as a
  `with` block. The web sets one per request (app/audit: the person logged in, read lazily when the transaction
  commits, and `request.remote_addr`, which the trusted proxies rule of app.operations already honours).
- `update_context(token_id=…, actor=…)`: changes fields of the current context for the rest of the request. The
  API sets the personal access token it authenticated with: `audit.update_context(token_id=token.id,
  actor=Actor(user.id, user.full_name))`.
- A context that names its actor outright (an `Actor`) is taken when a change is noted (the demo acts as each of
  its people in turn); one with a function (a request's person) is read at commit.
- Outside any context (jobs, the autopilot, `flask tick`) the author is « Relais » (`RELAIS`); commands say which
  one they were: « Relais (commande flask import-trainers) » (app.cli), the demo « Relais (données de
  démonstration) ».

Reads in bulk: `record_read(session, what, scope, count)` from the view that hands the data out (the roster, the
schedule exports with contacts, a trainer's record); it is written with the transaction (the caller commits it
through the unit of work).

Checking: `verify(session)` walks the chain in id order, a batch at a time, and says the first entry that breaks
it; `purge(session, before, now)` deletes the entries older than the retention period and records where the kept
chain starts (`AuditCheckpoint`), so that verification still holds.
"""

from __future__ import annotations

import contextvars
import enum
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Delete, Insert, Table, Update, delete, event, func, insert, inspect, select, text
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList, ColumnElement

from app.domain.clock import utcnow
from app.models.audit import AuditCheckpoint, AuditEntry
from app.models.base import Base

GENESIS = "0" * 64  # the previous hash of the very first entry
RELAIS_NAME = "Relais"
MASKED = "***"
# A column whose name says it holds a secret: never written into the trail, only that it changed.
SECRET_COLUMN = re.compile(r"password|passwd|secret|token|hash|totp|otp|encrypted|private|api_key|recovery",
                           re.IGNORECASE)
# Tables that are not audited: the trail itself, caches and queues Relais rebuilds, bookkeeping of pages seen and
# log-ins, the visible history of requests (itself a trail), the reference data (`flask reference-data`). Any
# other table is: a new one is audited by default.
UNAUDITED_TABLES = frozenset({
    "audit_entry", "audit_checkpoint", "statistics_revision", "outgoing_message", "calendar_entry", "caldav_push",
    "login_session", "home_visit", "autopilot_note", "autopilot_proposal", "autopilot_proposal_item",
    "request_event", "webhook_delivery", "inactivity_warning", "departement", "topic", "audience",
})
ACTIONS = ("create", "update", "delete", "read")
# PostgreSQL: the advisory lock that serialises the appends to the chain (an arbitrary constant: "audit").
CHAIN_LOCK = 0x61756469
_PENDING = "relais.audit.pending"


# -- who acted ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str  # "" : someone not logged in


RELAIS = Actor(None, RELAIS_NAME)
DEMO_NAME = "Relais (données de démonstration)"


@dataclass(frozen=True)
class AuditContext:
    """Who acts from where. `actor` is an `Actor`, or a function giving one, called when the transaction commits
    (the web: the person logged in by then, who may have just logged in)."""

    actor: Actor | Callable[[], Actor] = RELAIS
    address: str | None = None
    token_id: int | None = None

    def who(self) -> Actor:
        return self.actor() if callable(self.actor) else self.actor


_context: contextvars.ContextVar[AuditContext] = contextvars.ContextVar("relais_audit_context",
                                                                        default=AuditContext())  # noqa: B039 (frozen)


def current_context() -> AuditContext:
    return _context.get()


def set_context(context: AuditContext) -> contextvars.Token:
    return _context.set(context)


def reset_context(token: contextvars.Token) -> None:
    _context.reset(token)


def update_context(**changes: Any) -> None:
    """Changes fields of the current context (`actor`, `address`, `token_id`) until it is reset."""
    _context.set(replace(_context.get(), **changes))


def acts_as(user) -> None:
    """From now on in this context, the author is this person (who has just proven who they are: a log-in)."""
    update_context(actor=Actor(user.id, user.full_name))


@contextmanager
def acting(context: AuditContext | Actor) -> Iterator[AuditContext]:
    context = context if isinstance(context, AuditContext) else AuditContext(actor=context)
    token = set_context(context)
    try:
        yield context
    finally:
        reset_context(token)


def command_actor(name: str, operator: str | None = None) -> Actor:
    """The author of what a `flask` command writes (the periodic jobs: plain « Relais »)."""
    if name in ("tick", "deliver"):
        return RELAIS
    if name == "demo-data":
        return Actor(None, DEMO_NAME)
    return Actor(None, f"Relais (commande flask {name}{', ' + operator if operator else ''})")


# -- what changed ---------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    """An entry noted in the transaction (or savepoint) `transaction`, written at commit."""

    transaction: Any
    action: str
    object_type: str
    object_id: str | None
    changes: dict[str, Any] = field(default_factory=dict)
    # The context when it was noted, if it named its actor outright (a command, the demo acting as someone); a
    # request's person is read at commit.
    context: AuditContext | None = field(default_factory=lambda: _explicit_context())


def _explicit_context() -> AuditContext | None:
    context = _context.get()
    return None if callable(context.actor) else context


def audited(table_name: str) -> bool:
    return table_name not in UNAUDITED_TABLES


def plain(value: Any) -> Any:
    """A value as JSON keeps it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} octets>"
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, ColumnElement):
        return "(calculé)"
    return str(value)


def shown(column: str, value: Any) -> Any:
    return MASKED if SECRET_COLUMN.search(column) and value is not None else plain(value)


def _note(session: Session, entry: _Pending) -> None:
    session.info.setdefault(_PENDING, []).append(entry)


def _innermost(session: Session):
    session = session() if callable(session) else session  # a scoped_session: its session of the moment
    return session.get_nested_transaction() or session.get_transaction()


def _identity(state) -> str | None:
    identity = state.identity or (state.obj() is not None and state.mapper.primary_key_from_instance(state.obj()))
    return "/".join(str(plain(part)) for part in identity) if identity and None not in identity else None


def _changed_columns(state, mapper) -> dict[str, list]:
    changes = {}
    for attribute in mapper.column_attrs:
        history = state.attrs[attribute.key].history
        if not history.added and not history.deleted:
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before == after:
            continue
        name = attribute.columns[0].name
        changes[name] = [shown(name, before), shown(name, after)]
    for relation in mapper.relationships:
        if relation.secondary is None:
            continue
        history = state.attrs[relation.key].history
        if history.added or history.deleted:
            changes[relation.key] = {"ajout": sorted(_identity(inspect(o)) or "" for o in history.added or ()),
                                     "retrait": sorted(_identity(inspect(o)) or "" for o in history.deleted or ())}
    return changes


def _values(state, mapper) -> dict[str, Any]:
    values = {}
    for attribute in mapper.column_attrs:
        value = state.dict.get(attribute.key)
        if value is not None:
            name = attribute.columns[0].name
            values[name] = [None, shown(name, value)]
    for relation in mapper.relationships:
        if relation.secondary is not None and state.dict.get(relation.key):
            values[relation.key] = {"ajout": sorted(_identity(inspect(o)) or "" for o in state.dict[relation.key]),
                                    "retrait": []}
    return values


@event.listens_for(Session, "after_flush")
def _note_unit_of_work(session: Session, _flush_context) -> None:
    """Still the flush's own state here: `new`, `dirty`, `deleted` and each attribute's history."""
    transaction = _innermost(session)
    for instance in session.new:
        state = inspect(instance)
        if audited(state.mapper.local_table.name):
            _note(session, _Pending(transaction, "create", state.mapper.local_table.name, _identity(state),
                                    _values(state, state.mapper)))
    for instance in session.dirty:
        state = inspect(instance)
        if audited(state.mapper.local_table.name) and not state.deleted:
            changes = _changed_columns(state, state.mapper)
            if changes:
                _note(session, _Pending(transaction, "update", state.mapper.local_table.name, _identity(state),
                                        changes))
    for instance in session.deleted:
        state = inspect(instance)
        if audited(state.mapper.local_table.name):
            before = {name: [values[1], None] for name, values in _values(state, state.mapper).items()
                      if not isinstance(values, dict)}
            _note(session, _Pending(transaction, "delete", state.mapper.local_table.name, _identity(state), before))


# -- the statements executed through the session ------------------------------------------------------------------


def _conjuncts(where) -> list:
    if where is None:
        return []
    if isinstance(where, BooleanClauseList) and where.operator is operators.and_:
        return [part for clause in where.clauses for part in _conjuncts(clause)]
    return [where]


def _ids_named(where, key_column) -> list | None:
    """The ids an `id = …` or `id IN (…)` of the WHERE names (None: it names none)."""
    for part in _conjuncts(where):
        if not isinstance(part, BinaryExpression) or not isinstance(part.right, BindParameter):
            continue
        left = part.left
        if getattr(left, "table", None) is not key_column.table or getattr(left, "name", None) != key_column.name:
            continue
        value = part.right.effective_value
        if part.operator is operators.eq:
            return [value]
        if part.operator is operators.in_op:
            return list(value or [])
    return None


def _one(ids: list | None) -> Any:
    return ids[0] if ids and len(ids) == 1 else None


def _statement_values(statement, parameters) -> dict[str, Any]:
    values = {}
    for key, value in (getattr(statement, "_values", None) or {}).items():
        name = getattr(key, "name", key)
        values[str(name)] = value.effective_value if isinstance(value, BindParameter) else value
    if isinstance(parameters, dict):
        values.update({str(key): value for key, value in parameters.items()})
    return values


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState):
    statement = state.statement
    if state.is_select or not isinstance(statement, Insert | Update | Delete):
        return None
    table = getattr(statement, "table", None)
    if not isinstance(table, Table) or not audited(table.name) or len(table.primary_key.columns) != 1:
        return _note_other(state, table) if isinstance(table, Table) and audited(table.name) else None
    session = state.session
    key = next(iter(table.primary_key.columns))
    parameters = state.parameters
    many = isinstance(parameters, list | tuple) and len(parameters) > 1
    if isinstance(statement, Insert):
        result = state.invoke_statement()
        if many:
            _note(session, _Pending(_innermost(session), "create", table.name, None, {"lignes": len(parameters)}))
        else:
            values = _statement_values(statement, parameters[0] if isinstance(parameters, list | tuple) and parameters
                                       else parameters)
            _note(session, _Pending(_innermost(session), "create", table.name,
                                    str(plain(values[key.name])) if values.get(key.name) is not None else None,
                                    {name: [None, shown(name, value)] for name, value in values.items()}))
        return result
    if many or (isinstance(parameters, list | tuple) and parameters and key.name in parameters[0]):
        rows = list(parameters)  # an ORM bulk UPDATE by primary key: one dict a row
        result = state.invoke_statement()
        if not all(key.name in row for row in rows):  # rows not named by their key: how many
            _note(session, _Pending(_innermost(session), "update" if isinstance(statement, Update) else "delete",
                                    table.name, None, {"lignes": len(rows)}))
            return result
        for row in rows:
            _note_row(session, statement, table, key, row[key.name],
                      {name: value for name, value in row.items() if name != key.name})
        return result
    if statement.whereclause is None:  # every row of the table: how many, not which
        result = state.invoke_statement()
        if getattr(result, "rowcount", 0):
            _note(session, _Pending(_innermost(session), "update" if isinstance(statement, Update) else "delete",
                                    table.name, None, {"toutes les lignes": result.rowcount}))
        return result
    ids = _ids_named(statement.whereclause, key)
    if ids is None:  # no id in the WHERE: the rows it matches, found the moment before
        ids = list(session.execute(select(key).where(statement.whereclause)).scalars())
    values = _statement_values(statement, parameters if isinstance(parameters, dict) else None)
    before = _before(session, statement, table, key, ids, values)
    result = state.invoke_statement()
    count = getattr(result, "rowcount", -1)
    if count == 0 or not ids:
        return result
    if count not in (-1, len(ids)):  # some of the ids named matched: which ones, the statement does not say
        _note(session, _Pending(_innermost(session), "update" if isinstance(statement, Update) else "delete",
                                table.name, None, {"parmi": [plain(i) for i in ids], "lignes": count,
                                                   **{n: [None, shown(n, v)] for n, v in values.items()}}))
        return result
    for object_id in ids:
        _note_row(session, statement, table, key, object_id, values, before.get(object_id))
    return result


def _before(session: Session, statement, table: Table, key, ids: list, values: dict[str, Any]) -> dict:
    """The values an UPDATE is about to replace, by id: those the session had loaded, else read (one SELECT)."""
    if not isinstance(statement, Update) or not ids:
        return {}
    found = {object_id: _loaded(session, table, object_id) for object_id in ids}
    names = [name for name in values if name in table.columns]
    missing = [object_id for object_id, loaded in found.items()
               if loaded is None or any(name not in loaded for name in names)]
    if missing and names:
        rows = session.connection().execute(select(key, *(table.columns[name] for name in names))
                                            .where(key.in_(missing)))
        for row in rows:
            found[row[0]] = dict(zip(names, row[1:], strict=True))
    return found


def _note_row(session: Session, statement, table: Table, key, object_id, values: dict[str, Any],
              loaded: dict[str, Any] | None = None) -> None:
    if loaded is None:
        loaded = _loaded(session, table, object_id)
    if isinstance(statement, Delete):
        _note(session, _Pending(_innermost(session), "delete", table.name, str(plain(object_id)), {}))
        return
    changes = {}
    for name, value in values.items():
        before = loaded.get(name) if loaded is not None else None
        if loaded is not None and name in loaded and plain(before) == plain(value):
            continue
        changes[name] = [shown(name, before), shown(name, value)]
    if changes:
        _note(session, _Pending(_innermost(session), "update", table.name, str(plain(object_id)), changes))


def _loaded(session: Session, table: Table, object_id) -> dict[str, Any] | None:
    """The values the session had loaded for that row (its columns by name), before the statement."""
    mapper = _MAPPERS.get(table.name)
    if mapper is None:
        mapper = _MAPPERS[table.name] = next((m for m in Base.registry.mappers if m.local_table is table), False)
    if not mapper:
        return None
    instance = session.identity_map.get(mapper.identity_key_from_primary_key((object_id,)))
    if instance is None:
        return None
    state = inspect(instance)
    return {attribute.columns[0].name: state.dict[attribute.key]
            for attribute in mapper.column_attrs if attribute.key in state.dict}


_MAPPERS: dict[str, Any] = {}


def _note_other(state: ORMExecuteState, table: Table):
    """A statement on a table without a single-column key (an upsert of a coordination's address): its values."""
    result = state.invoke_statement()
    if getattr(result, "rowcount", 1) == 0:
        return result
    statement = state.statement
    parameters = state.parameters if isinstance(state.parameters, dict) else None
    values = _statement_values(statement, parameters)
    action = "create" if isinstance(statement, Insert) else "update" if isinstance(statement, Update) else "delete"
    # The key from the values (an insert), else from the WHERE (`code = … AND force = …` of an update).
    key = [values.get(column.name) if values.get(column.name) is not None
           else _one(_ids_named(getattr(statement, "whereclause", None), column))
           for column in table.primary_key.columns]
    object_id = "/".join(str(plain(part)) for part in key) if all(part is not None for part in key) else None
    _note(state.session, _Pending(_innermost(state.session), action, table.name, object_id,
                                  {name: [None, shown(name, value)] for name, value in values.items()}))
    return result


# -- reads in bulk ------------------------------------------------------------------------------------------------


def record_read(session: Session, what: str, scope: str, count: int, object_id: int | str | None = None) -> None:
    """A read of personal data in bulk (`what`: roster, sessions_export, trainer_record…, `scope`: which ones, in
    French; `object_id`: the one object read, a trainer's record), written with the transaction: the caller commits
    it (unit_of_work.run)."""
    _note(session, _Pending(_innermost(session), "read", what, None if object_id is None else str(object_id),
                            {"portée": scope, "nombre": count}))


def scope_text(arguments) -> str:
    """What a read covered, from its filters (an address's arguments): « departement=69, du=2027-01-01 »; ""
    for everything the person may see."""
    return ", ".join(f"{name}={value}" for name, value in arguments.items() if value and name != "apres")[:500]


def discard_pending(session: Session) -> None:
    """Forgets what the transaction noted so far (the tests' emptying of every table between two tests)."""
    session.info.pop(_PENDING, None)


# -- the transaction's end ----------------------------------------------------------------------------------------


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        return

    def inside(transaction) -> bool:
        while transaction is not None:
            if transaction is previous_transaction:
                return True
            transaction = transaction.parent
        return False

    session.info[_PENDING] = [entry for entry in pending if not inside(entry.transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(row: dict[str, Any] | AuditEntry) -> str:
    """SHA-256 over the sorted-key JSON of an entry's fields and its previous hash (the id is not in it: the
    chain's links give the order)."""
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
    at = get("at")
    fields = {"at": _utc_text(at), "transaction_key": get("transaction_key"),
              "author_id": get("author_id"), "author_name": get("author_name"), "address": get("address"),
              "token_id": get("token_id"), "action": get("action"), "object_type": get("object_type"),
              "object_id": get("object_id"), "changes": get("changes"), "previous_hash": get("previous_hash")}
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")  # a hash's input, not for people


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


def chain_head(session: Session) -> str:
    connection = session.connection()
    last = connection.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    if last is not None:
        return last
    anchor = connection.execute(select(AuditCheckpoint.anchor_hash).order_by(AuditCheckpoint.id.desc())
                                .limit(1)).scalar()
    return anchor or GENESIS


@event.listens_for(Session, "before_commit")
def _write_entries(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    at_commit = current_context()
    actor_at_commit = at_commit.who()
    now = utcnow()
    key = uuid.uuid4().hex
    _lock_chain(session)
    previous = chain_head(session)
    rows = []
    for entry in pending:
        context = entry.context or at_commit
        actor = actor_at_commit if context is at_commit else context.who()
        row = {"at": now, "transaction_key": key, "author_id": actor.id, "author_name": actor.name[:200],
               "address": (context.address or None) and context.address[:64], "token_id": context.token_id,
               "action": entry.action, "object_type": entry.object_type[:64],
               "object_id": entry.object_id[:64] if entry.object_id else None,
               "changes": canonical(entry.changes), "previous_hash": previous}
        row["hash"] = previous = entry_hash(row)
        rows.append(row)
    # One executemany: SQLite's runs in one call, PostgreSQL's is sent as multi-row INSERTs ("insertmanyvalues",
    # 1,000 rows a statement); a cached statement, where `.values([...])` would compile anew each time.
    session.connection().execute(insert(AuditEntry), rows)


# -- verifying and purging ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    count: int
    broken_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(session: Session, batch: int = 2000) -> Verification:
    """Walks the chain in id order, `batch` entries at a time (never the whole trail in memory)."""
    anchor = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).scalar()
    previous = anchor.anchor_hash if anchor else GENESIS
    after = anchor.purged_through_id if anchor else 0
    count = 0
    columns = [c for c in AuditEntry.__table__.columns]
    while True:
        rows = session.execute(select(*columns).where(AuditEntry.id > after).order_by(AuditEntry.id)
                               .limit(batch)).mappings().all()
        if not rows:
            return Verification(count)
        for row in rows:
            if row["previous_hash"] != previous:
                return Verification(count, row["id"], "ne suit pas l'entrée précédente (hash précédent différent : "
                                                      "une entrée a été supprimée, insérée ou modifiée avant elle)")
            if entry_hash(dict(row)) != row["hash"]:
                return Verification(count, row["id"], "son contenu ne correspond plus à son hash (modifiée)")
            previous = row["hash"]
            count += 1
        after = rows[-1]["id"]


def purge(session: Session, before: datetime, now: datetime) -> int:
    """Deletes the entries recorded before `before` (the oldest ones, a prefix of the chain) and records the
    checkpoint the kept chain starts from. Idempotent; two at once are serialised by the chain's lock."""
    _lock_chain(session)
    last_old = session.scalar(select(func.max(AuditEntry.id)).where(AuditEntry.at < before))
    if last_old is None:
        return 0
    anchor = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == last_old))
    count = session.connection().execute(delete(AuditEntry).where(AuditEntry.id <= last_old)).rowcount
    session.add(AuditCheckpoint(at=now, purged_through_id=last_old, anchor_hash=anchor, purged_count=count))
    session.flush()
    return count


# -- reading the trail ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The admins' search: a person (part of the author's name, or their id), an object (its type, its id), an
    action, a period [start, end)."""

    person: str = ""
    author_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    start: datetime | None = None
    end: datetime | None = None


def search(filters: Filters):
    """The entries matching the filters, the latest first (the caller adds the key and the limit)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if filters.person:
        query = query.where(func.lower(AuditEntry.author_name).contains(filters.person.lower(), autoescape=True))
    if filters.author_id is not None:
        query = query.where(AuditEntry.author_id == filters.author_id)
    if filters.object_type:
        query = query.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEntry.object_id == filters.object_id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.start is not None:
        query = query.where(AuditEntry.at >= filters.start)
    if filters.end is not None:
        query = query.where(AuditEntry.at < filters.end)
    return query


def history(objects: dict[str, list]):
    """The entries about these objects ({table: [ids]}), the latest first."""
    from sqlalchemy import and_, false, or_

    conditions = [and_(AuditEntry.object_type == table, AuditEntry.object_id.in_([str(i) for i in ids]))
                  for table, ids in objects.items() if ids]
    return select(AuditEntry).where(or_(*conditions) if conditions else false()).order_by(AuditEntry.id.desc())
