"""Fixtures: an app per test on SQLite (or PostgreSQL with TEST_DATABASE_URL), client, runner, clock."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app import create_app
from app.domain.clock import clock as app_clock
from app.domain.reference_data import sync_reference_data
from app.extensions import db
from tests.factories import PASSWORD

# CI sets this so that a missing browser or database fails instead of skipping.
REQUIRE_ALL = os.environ.get("RELAIS_REQUIRE_ALL_TESTS") == "1"
# Kept between tests: the reference tables, and the single row of the statistics' revision.
KEPT_TABLES = {"departement", "topic", "audience", "statistics_revision"}
CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def skip_or_fail(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (RELAIS_REQUIRE_ALL_TESTS=1: nothing may be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'relais-test.sqlite3'}"


_prepared: set[str] = set()


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RELAIS_INSTANCE_TMP": str(tmp_path)})
    with app.app_context():
        if database_url not in _prepared:
            db.drop_all()
            db.create_all()
            sync_reference_data(db.session)
            db.session.commit()
            _prepared.add(database_url)
        yield app
        db.session.rollback()
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


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


def csrf_token_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def post_form(client, url: str, data: dict, page: str | None = None, **kwargs):
    """Posts a form as a browser would: first load the page to get its CSRF token."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token_from(html)}, **kwargs)


def login(client, user, password: str = PASSWORD):
    response = post_form(client, "/compte/connexion", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def logged_in(client):
    def _login(user):
        db.session.commit()
        login(client, user)
        return client

    return _login


class RecordingHandler:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.original_content or envelope.content,
                                                policy=policy.default))
        return "250 Message accepted for delivery"


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
