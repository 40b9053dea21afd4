"""The revision of what the statistics count: raised in the same transaction as any change to it.

A dashboard over a national school year takes a few hundred milliseconds of SQL; cached under the revision it
was computed at, it is served again until the next change, and recomputed right after it (a report filed moves
the figures at once). Every write made through an ORM session is seen: the unit of work (before_flush) and the
UPDATE, DELETE and INSERT statements executed through a session (bulk status changes, imports). The counter is
raised once per transaction, at commit, so that its row is locked only for the commit itself.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from app.models.revisions import StatisticsRevision

# Tables whose changes the statistics never read (any other table counts: a new one is safe by default).
UNCOUNTED_TABLES = frozenset({
    "statistics_revision", "outgoing_message", "calendar_entry", "calendar_feed", "request_event", "join_request",
    "availability_pattern", "availability_exception", "user_account", "coordinator_scope",
})
_CHANGED = "relais.statistics_changed"


def current_revision(session: Session) -> int | None:
    """The revision committed so far (None: the counter's row is missing, and nothing may be cached)."""
    return session.scalar(select(StatisticsRevision.revision).where(StatisticsRevision.id == 1))


def _counted(instance: object) -> bool:
    table = getattr(type(instance), "__tablename__", None)
    return table not in UNCOUNTED_TABLES


@event.listens_for(Session, "before_flush")
def _note_unit_of_work(session: Session, _flush_context, _instances) -> None:
    if not session.info.get(_CHANGED) and any(
            _counted(instance) for instance in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) \
            and state.statement.table.name not in UNCOUNTED_TABLES:
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _raise_revision(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit would flush them after this hook: note them now
    if session.info.pop(_CHANGED, False):
        session.execute(update(StatisticsRevision).where(StatisticsRevision.id == 1)
                        .values(revision=StatisticsRevision.revision + 1))


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a savepoint leaves the earlier changes)
        session.info.pop(_CHANGED, None)
