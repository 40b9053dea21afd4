"""Several processes, one Redis: rate limits and cached dashboards are shared, as docs/deployment.md sets them up.

Each test is two apps on the same database (two gunicorn workers, or two machines) and the Redis server of this
machine (127.0.0.1:6379, database 15, keys under a prefix of the test's own, removed at the end).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from flask import Flask
from sqlalchemy import event

from app import create_app
from app.extensions import db
from app.models import User
from tests.factories import make_confirmed_session
from tests.helpers import login, post_form, skip_or_fail

REDIS_URL = os.environ.get("RELAIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.RedisError as error:
        skip_or_fail(f"no Redis server at {REDIS_URL} ({error})")
    prefix = f"relais-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    for key in server.scan_iter(f"*{prefix}*"):
        server.delete(key)
    server.close()


@contextmanager
def worker(database_url: str, **config) -> Iterator[Flask]:
    """Another process of the same deployment: its own app, engine and caches."""
    other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, **config})
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_login_attempts_are_counted_across_processes(app, database_url, redis_prefix):
    user_email = "cible@exemple.fr"
    limits = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix,
              "RELAIS_LOGIN_LIMIT_PER_ACCOUNT": "4 per 15 minutes"}
    with worker(database_url, **limits) as first, worker(database_url, **limits) as second:
        one, two = first.test_client(), second.test_client()
        statuses = []
        for client in (one, two, one, two, two):
            with client.application.app_context():
                statuses.append(post_form(client, "/compte/connexion", {"email": user_email,
                                                                        "password": "faux-mot-de-passe"}).status_code)
    assert statuses == [200, 200, 200, 200, 429], "the fifth attempt is refused whichever process receives it"


def test_a_dashboard_computed_by_one_process_is_served_by_the_other(app, database_url, redis_prefix):
    _, _, coordinator = make_confirmed_session()
    shared = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": redis_prefix}
    period = {"date_from": "2027-01-01", "date_to": "2027-01-31"}
    with worker(database_url, **shared) as first, worker(database_url, **shared) as second:
        pages, statements = [], []
        for process in (first, second):
            client = process.test_client()
            with process.app_context():
                login(client, db.session.get(User, coordinator.id))
                engine = db.engine
            counted: list[str] = []
            event.listen(engine, "before_cursor_execute", lambda _c, _k, sql, *_, counted=counted: counted.append(sql))
            with process.app_context():
                pages.append(client.get("/statistiques/", query_string=period).get_data(as_text=True))
            statements.append(counted)
    assert 'data-indicateur="3">0<' in pages[0] and 'data-indicateur="3">0<' in pages[1]
    assert any("sum(" in sql.lower() for sql in statements[0]), "the first process computes the figures"
    assert not any("sum(" in sql.lower() for sql in statements[1]), "the second reads them from Redis"


def test_with_redis_down_limits_still_count_and_dashboards_still_show(app, database_url):
    """No Redis where one is configured (a closed port): each process counts in its own memory and computes its
    own figures; nobody gets an error page."""
    _, _, coordinator = make_confirmed_session()
    nowhere = "redis://127.0.0.1:1/0"
    down = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": nowhere, "RELAIS_LOGIN_LIMIT_PER_ACCOUNT":
            "3 per 15 minutes", "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": nowhere}
    with worker(database_url, **down) as process:
        client = process.test_client()
        with process.app_context():
            statuses = [post_form(client, "/compte/connexion", {"email": "cible@exemple.fr",
                                                                "password": "faux-mot-de-passe"}).status_code
                        for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            login(client, db.session.get(User, coordinator.id))
            page = client.get("/statistiques/", query_string={"date_from": "2027-01-01", "date_to": "2027-01-31"})
    assert page.status_code == 200 and 'data-indicateur="3">0<' in page.get_data(as_text=True)
