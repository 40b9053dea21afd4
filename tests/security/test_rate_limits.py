"""Rate limits that hold (issue #17, point 6): failed log-ins counted per account and address (a stranger cannot
lock the owner out) and, more slowly, per account; registrations and reset requests limited per address and per
recipient; X-Forwarded-For believed only from the configured proxies; and every count shared by the workers
through the store of RATELIMIT_STORAGE_URI (the last test: two gunicorn workers and Redis)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from sqlalchemy import func, select

from app import create_app
from app.extensions import db, limiter
from app.models import LoginSession, OutgoingMessage
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_token_from, gunicorn_running, request_anew, skip_or_fail

REDIS_URL = os.environ.get("RELAIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
STRONG = "Un-Tres-Bon-Mot-2026"


@pytest.fixture
def limited(database_url):
    """Another app on the same database with the rate limits on (memory storage); `limited(**config)`."""
    made = []

    def make(**config):
        application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                                             **config})
        context = application.app_context()
        context.push()
        limiter.reset()
        made.append(context)
        return application.test_client()

    yield make
    for context in reversed(made):
        limiter.reset()
        db.session.remove()
        db.engine.dispose()
        context.pop()


def submit(client, url: str, data: dict, address: str, forwarded_for: str | None = None):
    """A form posted from `address` (the TCP peer), with an X-Forwarded-For header when given; each request in an
    app context of its own, as a server serves them."""
    environ = {"REMOTE_ADDR": address}
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = request_anew(client, "GET", url, environ_base=environ, headers=headers).get_data(as_text=True)
    return request_anew(client, "POST", url, data={**data, "csrf_token": csrf_token_from(page)},
                        environ_base=environ, headers=headers)


def attempt(client, email: str, password: str, address: str) -> int:
    return submit(client, "/compte/connexion", {"email": email, "password": password}, address).status_code


def test_a_stranger_cannot_lock_the_owner_out(app, limited):
    owner = make_user()
    db.session.commit()
    client = limited(RELAIS_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS="5 per 15 minutes")
    statuses = [attempt(client, owner.email, "faux-mot-de-passe", "203.0.113.66") for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert attempt(client, owner.email, PASSWORD, "203.0.113.66") == 429  # the stranger's address stays blocked
    assert attempt(client, owner.email, PASSWORD, "192.0.2.10") == 302, "the owner is locked out of their account"


def test_the_slower_account_limit_holds_across_addresses_but_not_where_the_owner_logged_in(app, limited):
    owner = make_user()
    db.session.commit()
    client = limited(RELAIS_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS="5 per 15 minutes",
                     RELAIS_LOGIN_LIMIT_PER_ACCOUNT="6 per hour")
    assert attempt(client, owner.email, PASSWORD, "192.0.2.10") == 302  # the owner's office, last week
    client = client.application.test_client()
    statuses = [attempt(client, owner.email, "faux-mot-de-passe", f"203.0.113.{n // 2}") for n in range(7)]
    assert statuses == [200] * 6 + [429], "six addresses, two tries each: the account's limit is reached"
    assert attempt(client, owner.email, PASSWORD, "198.51.100.4") == 429  # a new address waits too
    assert attempt(client, owner.email, PASSWORD, "192.0.2.10") == 302  # not the owner's usual one


def test_registrations_are_limited_per_recipient_and_per_address(app, limited):
    client = limited(RELAIS_REGISTRATION_LIMIT_PER_ADDRESS="4 per hour", RELAIS_MAIL_LIMIT_PER_RECIPIENT="2 per hour")
    form = {"full_name": "Anne Proviseure", "email": "cible@exemple.fr", "password": STRONG, "confirm": STRONG}
    statuses = [submit(client, "/compte/inscription", form, f"198.51.100.{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429], "one person's mailbox flooded from many addresses"
    # The same count for reset requests: the e-mails to one recipient.
    assert submit(client, "/compte/mot-de-passe-oublie", {"email": "cible@exemple.fr"}, "198.51.100.9").status_code \
        == 429
    assert db.session.scalar(select(func.count()).where(OutgoingMessage.recipient == "cible@exemple.fr")) == 2
    # A form refused (a weak password) sends nothing and counts for the address only.
    weak = {**form, "email": "autre@exemple.fr", "password": "court", "confirm": "court"}
    assert submit(client, "/compte/inscription", weak, "192.0.2.50").status_code == 200
    statuses = [submit(client, "/compte/inscription", {**form, "email": f"p{n}@exemple.fr"}, "192.0.2.50").status_code
                for n in range(4)]
    assert statuses == [200, 200, 200, 429], "registrations from one address"


def test_reset_requests_are_limited_per_address(app, limited):
    client = limited(RELAIS_RESET_LIMIT_PER_ADDRESS="3 per hour")
    statuses = [submit(client, "/compte/mot-de-passe-oublie", {"email": f"p{n}@exemple.fr"}, "192.0.2.7").status_code
                for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_forwarded_for_is_believed_only_from_the_configured_proxies(app, limited):
    user = make_user()
    db.session.commit()
    client = limited(RELAIS_TRUSTED_PROXIES=1, RELAIS_PROXY_ADDRESSES="10.0.0.1", RELAIS_BEHIND_PROXY=True,
                     RELAIS_RESET_LIMIT_PER_ADDRESS="2 per hour")
    reset = "/compte/mot-de-passe-oublie"
    # Reached directly, choosing one's address in the header: counted as the real peer.
    spoofed = [submit(client, reset, {"email": f"s{n}@exemple.fr"}, "203.0.113.5", f"198.51.100.{n}").status_code
               for n in range(3)]
    assert spoofed == [200, 200, 429], "a forged X-Forwarded-For escaped the limit"
    # Through the proxy: each client its own count.
    proxied = [submit(client, reset, {"email": f"p{n}@exemple.fr"}, "10.0.0.1", f"6.6.6.6, 198.51.100.{n}").status_code
               for n in range(3)]
    assert proxied == [200, 200, 200]
    # The address a session shows is the client's through the proxy, the peer's otherwise.
    for peer, header in (("10.0.0.1", "198.51.100.77"), ("203.0.113.8", "198.51.100.78")):
        client = client.application.test_client()
        assert submit(client, "/compte/connexion", {"email": user.email, "password": PASSWORD}, peer,
                      header).status_code == 302
    assert set(db.session.scalars(select(LoginSession.address))) == {"198.51.100.77", "203.0.113.8"}


# -- two gunicorn workers, one Redis -----------------------------------------------------------------------------


class Browser:
    """Cookies, and the CSRF token of the page before each form."""

    def __init__(self, base: str, forwarded_for: str):
        self.base, self.headers = base, {"X-Forwarded-For": forwarded_for}
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def submit(self, path: str, data: dict) -> int:
        page = self.open(urllib.request.Request(self.base + path, headers=self.headers))  # noqa: S310 (loopback)
        fields = urllib.parse.urlencode({**data, "csrf_token": csrf_token_from(page[1])}).encode()
        return self.open(urllib.request.Request(self.base + path, data=fields, headers=self.headers))[0]  # noqa: S310

    def open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@pytest.fixture
def redis_prefix():
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.RedisError as error:
        skip_or_fail(f"no Redis server at {REDIS_URL} ({error})")
    prefix = f"relais-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in server.scan_iter(f"*{prefix}*"):
        server.delete(key)
    server.close()


def test_limits_hold_across_two_gunicorn_workers_with_the_shared_store(app, database_url, redis_prefix, tmp_path):
    user = make_user()
    db.session.commit()
    log_path = tmp_path / "gunicorn.log"
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "rate-limits-test", "RATELIMIT_STORAGE_URI": REDIS_URL,
           "RATELIMIT_KEY_PREFIX": redis_prefix, "RELAIS_RESET_LIMIT_PER_ADDRESS": "6 per hour",
           "RELAIS_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS": "3 per 15 minutes",
           # The tests connect from 127.0.0.1: not the proxy's address, so their X-Forwarded-For must be ignored.
           "RELAIS_PROXY_ADDRESSES": "192.0.2.1"}
    served_by: set[str] = set()
    statuses: Counter = Counter()
    with gunicorn_running(env, log_path, workers=2) as base:
        def reset(number: int) -> int:
            return Browser(base, f"198.51.100.{number % 250}").submit("/compte/mot-de-passe-oublie",
                                                                       {"email": f"personne{number}@exemple.fr"})

        # Which worker accepts a connection is the kernel's choice: send concurrent batches until the log shows
        # both served reset requests (one worker taking them all would prove nothing about the shared store).
        with ThreadPoolExecutor(max_workers=4) as pool:
            for batch in range(12):
                statuses.update(pool.map(reset, range(batch * 8, batch * 8 + 8)))
                served_by = set(re.findall(r'"POST /compte/mot-de-passe-oublie HTTP/1.1" \d+ \d+ \d+ms <(\d+)>',
                                           log_path.read_text(errors="replace")))
                if len(served_by) == 2:
                    break
        logins = [Browser(base, f"203.0.113.{n}").submit("/compte/connexion", {"email": user.email,
                                                                              "password": "faux-mot-de-passe"})
                  for n in range(6)]
    logs = log_path.read_text(errors="replace")
    assert len(served_by) == 2, f"both workers took requests: {served_by}\n{logs}"
    assert statuses[200] == 6 and set(statuses) == {200, 429}, \
        f"six requests in all, whichever worker received them: {statuses}"
    assert logins == [200, 200, 200, 429, 429, 429]
    assert "Rate limits are kept in each worker's memory" not in logs
