"""A request that only read ends with COMMIT (PostgreSQL keeps its plans); one that wrote without committing, or
failed, still ends with ROLLBACK and leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event, select, text

from app import create_app
from app.extensions import db
from app.models import User
from tests.factories import make_user


@pytest.fixture
def worker(app, database_url) -> Iterator[Flask]:
    """Another app on the test database, used without an outer app context: each request has its own, as
    under gunicorn, so the end-of-request teardown runs."""
    user = make_user(full_name="Nom d'origine")
    db.session.commit()
    other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})

    def read() -> str:
        return db.session.get(User, user.id).full_name

    def write_without_commit() -> str:
        db.session.get(User, user.id).full_name = "Nom modifié"
        db.session.flush()
        return "non validé"

    def write_then_fail() -> str:
        db.session.get(User, user.id).full_name = "Nom modifié"
        db.session.flush()
        raise RuntimeError("échec après écriture")

    other.add_url_rule("/essai/lire", view_func=read)
    other.add_url_rule("/essai/ecrire", view_func=write_without_commit)
    other.add_url_rule("/essai/echouer", view_func=write_then_fail)
    other.config["user_id"] = user.id
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _endings(app: Flask, path: str) -> list[str]:
    with app.app_context():
        engine = db.engine
    ends: list[str] = []
    commit, rollback = (lambda _connection: ends.append("commit")), (lambda _connection: ends.append("rollback"))
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        app.test_client().get(path)
    finally:
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)
    return ends


def _name(app: Flask) -> str:
    with app.app_context():
        return db.session.scalar(select(User.full_name).where(User.id == app.config["user_id"]))


def test_a_request_that_only_read_ends_with_commit(worker):
    assert _endings(worker, "/essai/lire")[:1] == ["commit"]


def test_a_request_that_wrote_without_committing_is_rolled_back(worker):
    assert _endings(worker, "/essai/ecrire") == ["rollback"]
    assert _name(worker) == "Nom d'origine"


def test_a_failed_request_is_rolled_back(worker):
    worker.config["PROPAGATE_EXCEPTIONS"] = False
    assert _endings(worker, "/essai/echouer") == ["rollback"]
    assert _name(worker) == "Nom d'origine"


def test_postgresql_keeps_its_prepared_statements_from_one_request_to_the_next(worker):
    """psycopg drops them at each rollback; a page read again and again is planned once per connection."""
    with worker.app_context():
        if db.engine.dialect.name != "postgresql":
            assert db.engine.dialect.name == "sqlite"  # no prepared statements to keep: nothing more to check
            return
    client = worker.test_client()
    for _ in range(8):  # psycopg prepares a statement at its fifth execution
        assert client.get("/essai/lire").status_code == 200
    with worker.app_context():
        prepared = db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements "
                                          "WHERE statement LIKE '%FROM user_account%'"))
    assert prepared >= 1
