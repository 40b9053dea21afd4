"""A request that only read ends its transaction with COMMIT, not ROLLBACK.

psycopg forgets all the prepared statements of a connection at every rollback, and Flask-SQLAlchemy ends each
request with one: PostgreSQL then planned every statement of every page again (0.1 to 0.6 ms each, more than
running them). Ending a transaction that wrote nothing with COMMIT changes nothing in the data and keeps the
plans. A transaction that wrote anything (app.domain.writes: a flush, any statement other than a SELECT) still ends
with ROLLBACK when the request did not commit it, as does a request that failed.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.domain.writes import written_tables


def end_read_only_transaction(session: Session) -> bool:
    """COMMIT the session's transaction if it only read; True when it did."""
    if (not session.in_transaction() or written_tables(session)
            or session.new or session.dirty or session.deleted):
        return False
    session.commit()
    return True


def init_app(app: Flask) -> None:
    """After Flask-SQLAlchemy's own teardown is registered: teardowns run in reverse order, so this one runs
    first, and its session.remove() then finds nothing to roll back."""
    from app.extensions import db

    @app.teardown_appcontext
    def commit_if_only_read(error: BaseException | None) -> None:
        if error is not None or not db.session.registry.has():
            return
        try:
            end_read_only_transaction(db.session())
        except SQLAlchemyError:
            db.session.rollback()
