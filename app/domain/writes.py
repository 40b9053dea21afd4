"""The tables the current transaction of each session has written so far.

Noted from the unit of work (before each flush) and from every statement other than a SELECT executed through
the session (bulk status changes, upserts, imports); forgotten when the transaction ends. The statistics'
revision is raised when a counted table was written (app.domain.revisions), and a request that wrote nothing
ends with COMMIT rather than ROLLBACK (app.transactions).
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

UNKNOWN = "?"  # a statement whose table is not known (raw SQL): counts as a write to anything
_TABLES = "relais.written_tables"


def written_tables(session: Session) -> frozenset[str]:
    return frozenset(session.info.get(_TABLES, ()))


@event.listens_for(Session, "before_flush")
def _note_unit_of_work(session: Session, _flush_context, _instances) -> None:
    tables = session.info.setdefault(_TABLES, set())
    tables.update(getattr(type(instance), "__tablename__", UNKNOWN)
                  for instance in chain(session.new, session.dirty, session.deleted))


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        table = getattr(state.statement, "table", None)
        state.session.info.setdefault(_TABLES, set()).add(getattr(table, "name", UNKNOWN))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a savepoint leaves the earlier writes)
        session.info.pop(_TABLES, None)
