"""Fixtures: an app per test on SQLite (or PostgreSQL with TEST_DATABASE_URL), client, runner, clock.

After a test, every row it wrote is deleted (the reference tables stay). A test marked `rolled_back` runs instead
inside one transaction of one connection, rolled back at the end: for tests that write through `db.session` only
and never need their rows committed (no HTTP request, command, thread or second connection).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.domain.clock import clock as app_clock
from app.domain.reference_data import sync_reference_data
from app.extensions import db
from tests.helpers import RecordingHandler, database_beside, empty_tables, login, restart_identifiers
from tests.radicale import radicale  # noqa: F401  (a real CalDAV server on loopback, #19)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A SQLite file of this run, or the PostgreSQL database of TEST_DATABASE_URL. Each pytest-xdist worker has a
    file of its own (its own temporary folder), or a PostgreSQL database of its own, made beside the given one."""
    url = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'relais-test.sqlite3'}"
    elif not worker:
        yield url
    else:
        with database_beside(url, worker) as own:
            yield own


_prepared: set[str] = set()


@pytest.fixture
def app(request, database_url, tmp_path):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RELAIS_INSTANCE_TMP": str(tmp_path)})
    commits_elsewhere: list = []
    with app.app_context():
        if database_url not in _prepared:
            db.drop_all()
            db.create_all()
            sync_reference_data(db.session)
            db.session.commit()
            _prepared.add(database_url)
        if request.node.get_closest_marker("rolled_back"):
            with _rolled_back_transaction() as commits_elsewhere:
                yield app
            if commits_elsewhere:
                empty_tables()
        else:
            yield app
            db.session.rollback()
            empty_tables()
        db.session.remove()
        db.engine.dispose()
    if commits_elsewhere:
        pytest.fail("this test, marked rolled_back, committed on a connection of its own (a request, a command, a "
                    "thread): it needs the usual cleanup, remove its mark")


class _JoinedSession(FlaskSession):
    """Flask-SQLAlchemy's session on the one connection it is given, whatever the table (Flask-SQLAlchemy chooses
    the engine itself, which would give a new connection, outside the test's transaction)."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@contextmanager
def _rolled_back_transaction() -> Iterator[list]:
    """`db.session` joined to one transaction of one connection, rolled back at the end (SQLAlchemy's "joining a
    session into an external transaction"); yields the COMMITs seen meanwhile on the engine's other connections.

    The session's commits and rollbacks become savepoints (join_transaction_mode="create_savepoint"). The outer
    transaction starts with a savepoint of its own: pysqlite sends no BEGIN before the first INSERT, so on SQLite
    the session's first savepoint would open the transaction, and its release (a commit of the session) would
    commit it."""
    connection = db.engine.connect()
    outer = connection.begin()
    connection.begin_nested()
    original = db.session
    factory = sessionmaker(**{**original.session_factory.kw, "bind": connection,
                              "join_transaction_mode": "create_savepoint"}, class_=_JoinedSession)
    db.session = scoped_session(factory, scopefunc=original.registry.scopefunc)
    commits: list = []

    def note_commit(other_connection) -> None:
        commits.append(other_connection)

    event.listen(db.engine, "commit", note_commit)
    try:
        yield commits
    finally:
        event.remove(db.engine, "commit", note_commit)
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()
        if db.engine.dialect.name == "postgresql":
            restart_identifiers()
            db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def clock():
    """The application clock, frozen at a known Monday morning; tests may move it."""
    app_clock.freeze(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    yield app_clock
    app_clock.unfreeze()


@pytest.fixture(autouse=True)
def _real_clock_after_test():
    yield
    app_clock.unfreeze()


@pytest.fixture
def logged_in(client):
    def _login(user):
        db.session.commit()
        login(client, user)
        return client

    return _login


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; `.handler.messages` holds what it received."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    controller.handler = handler
    yield controller
    controller.stop()
