"""Every main page under gunicorn, on SQLite and on PostgreSQL: p50, p99 and requests per second.

Issue #8: "On the national demo data set (≥1,500 trainers, 6,000 establishments, 50,000 sessions), on
SQLite and on PostgreSQL, under gunicorn with 2 workers and a load generator on loopback: every main
page: p50 and p99 latency and requests per second, next to a trivial endpoint (/healthz) measured in the
same run; target: p50 within 10x the trivial endpoint, p99 under 50 ms, and PostgreSQL no more than 3x
SQLite per page; deep pages of long lists cost no more than their first page."

How:

- the data: the national demo and a school year of 50,000 sessions (`app.domain.demo_year`); the same rows are
  copied into a throwaway PostgreSQL database (created on the server given, `VACUUM ANALYZE`d as autovacuum
  would, dropped at the end), so that both databases hold the same ids;
- the server: `gunicorn --config gunicorn.conf.py --workers 2` as the deployment guide runs it
  (production configuration from the environment, as tests/test_deployment.py does), on
  `bench.frozen_app:app` (wsgi.py's app with its clock frozen at the bench's NOW, the day the data set
  describes) and with `--max-requests 0` (a worker recycled in the middle of a page would be measured
  as that page's p99);
- the clients: each role logs in through the real form over HTTP, then `CONCURRENCY` threads, each with
  its own `http.client` connection (kept alive when the server allows it: gunicorn's sync workers close
  it after each answer, so each request opens one, as nginx does towards gunicorn), send the same GET;
  a few requests warm each page up (templates, compiled SQL, the feed's cached VEVENTs), then up to
  `REQUESTS` requests or `BUDGET_SECONDS` are timed, from sending the request to the last byte read;
- next to the client's view: the time the app itself logs for each request (`duration_ms` of the
  JSON request log, from `before_request` to `after_request`: no queueing, no network) and the SQL
  statements of each page (one request through the test client, in process).

`python -m bench.pages` runs it alone (national demo from the cache, then the year); `python -m bench`
runs it last, after the other benchmarks.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import Integer, create_engine, event, func, insert, make_url, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.domain import policies
from app.domain.clock import clock
from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import Intervention, InterventionRequest, InterventionStatus, RequestStatus, Trainer, User
from bench.data import NOW
from bench.lists import LIST_PAGE_SIZE, OFFERS_PAGE_SIZE, deep_page, grow_lists, list_ids
from bench.report import Row

PROJECT_DIR = Path(__file__).resolve().parent.parent
WORKERS = 2
# One client per worker: each request finds a worker free, so its latency is the page's. More clients than
# workers measure the queue in front of them instead (with 4 clients on 2 workers, every p50 doubles);
# `--concurrency` sets it for a saturation run.
CONCURRENCY = WORKERS
REQUESTS = 200  # timed per page, at most
BUDGET_SECONDS = 10.0  # per page: a slow page stops earlier (at least one request per client)
WARMUP_ROUNDS = 2  # requests per client before the timed ones
WARMUP_BUDGET_SECONDS = 2.0  # a slow page is warmed up by one request per client
POSTGRESQL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Targets (issue #8).
P99_TARGET_MS = 50.0
HEALTHZ_FACTOR = 10.0
POSTGRESQL_FACTOR = 3.0
DEEP_FACTOR = 1.25  # a deep page "costs no more than the first": its p50 within 25 % (noise) of the first's
PAGE_SIZE = 50  # of the queue and of the roster (PAGE_SIZE, ROSTER_PAGE_SIZE in the app)
USER_AGENT = "relais-bench/1.0"  # one per client: "strong" session protection ties the session to it
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
# The https address of the /calendrier/ page (its webcal twin carries the same token).
FEED_LINK = re.compile(r'id="adresse-https"[^>]*value="https?://[^"]*/calendrier/flux/([^"/]+)\.ics"')
ACCOUNTS = {
    "admin": "admin@relais.demo",
    "trainer": "formateur.pfad@relais.demo",
    "requester": "principal.college@relais.demo",
    # "coordinator": the police coordinator of the first département, found in the data
}
DATABASES = ("SQLite", "PostgreSQL")


# -- the pages ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    role: str | None  # logged in as; None: anonymous
    path: str = ""  # for feeds: filled in per server, from the /calendrier/ page
    feed: bool = False
    conditional: bool = False  # with If-None-Match: the feed's ETag
    first_page: str | None = None  # a deep page: the key of its first page
    api: bool = False  # the JSON API (#22): the role's personal access token, not its cookies


@dataclass(frozen=True)
class Targets:
    coordinator: str  # e-mail
    coordinator_scope: str  # "01, police"
    request_id: int
    sessions_in_request: int
    session_id: int
    trainer_id: int
    queue_rows: int
    queue_deep_after: int
    queue_deep_page: int
    roster_rows: int
    roster_deep_after: int
    roster_deep_page: int
    # Lists that grow with use (bench/lists.py): rows, and the key and number of a deep page.
    offer_rows: int = 0
    offers_deep_after: int = 0
    offers_deep_page: int = 0
    request_rows: int = 0
    requests_deep_after: int = 0
    requests_deep_page: int = 0
    outbox_rows: int = 0
    outbox_deep_after: int = 0
    outbox_deep_page: int = 0


def _last_full_page(ids: list[int]) -> tuple[int, int]:
    """The key (`apres`) of the last full page of a list in keyset order, and that page's number."""
    page = max(len(ids) // PAGE_SIZE, 2)
    return ids[(page - 1) * PAGE_SIZE - 1], page


# role → the secret of a personal access token of its account, for the API's pages (#22)
API_TOKENS: dict[str, str] = {}


def make_api_tokens(session: Session, accounts: dict[str, str]) -> None:
    """A read-only token for each account measured (committed; the secrets kept in API_TOKENS)."""
    from app.domain.access_tokens import create_token
    from app.models import TokenScope

    for role, email in accounts.items():
        person = session.scalar(select(User).where(User.email == email))
        API_TOKENS[role] = create_token(session, person, "Banc d'essai", TokenScope.READ, NOW).secret
    session.commit()


def find_targets(session: Session) -> Targets:
    """The ids the pages need, from the data: a request to schedule in the coordinator's scope, deep pages…"""
    coordinator = session.scalar(select(User).where(User.email.like("coordination.police.%@relais.demo"))
                                 .order_by(User.email))
    scope = coordinator.scopes[0]
    sessions_to_schedule = (select(Intervention.request_id, func.count().label("sessions"),
                                   func.min(Intervention.id).label("first"))
                            .where(Intervention.status == InterventionStatus.TO_SCHEDULE)
                            .group_by(Intervention.request_id).subquery())
    request_id, sessions, session_id = session.execute(
        select(InterventionRequest.id, sessions_to_schedule.c.sessions, sessions_to_schedule.c.first)
        .where(policies.REQUESTS.rows(coordinator))
        .join(sessions_to_schedule, sessions_to_schedule.c.request_id == InterventionRequest.id)
        .where(InterventionRequest.status.in_((RequestStatus.IN_PLANNING, RequestStatus.SCHEDULED)))
        .order_by(sessions_to_schedule.c.sessions.desc(), InterventionRequest.id).limit(1)).one()
    admin = session.scalar(select(User).where(User.email == ACCOUNTS["admin"]))
    queue = list(session.scalars(select(InterventionRequest.id).where(policies.REQUESTS.rows(admin))
                                 .order_by(InterventionRequest.id)))
    roster = list(session.scalars(select(Trainer.id).join(User, User.id == Trainer.user_id)
                                  .where(Trainer.active.is_(True)).order_by(User.full_name, Trainer.id)))
    trainer_id = session.scalar(select(Trainer.id).join(User, User.id == Trainer.user_id)
                                .where(User.email == ACCOUNTS["trainer"]))
    offers, requests, outbox = list_ids(session)
    targets = Targets(coordinator.email, f"{scope.departement_code}, {scope.force.value if scope.force else 'both'}",
                      request_id, sessions, session_id, trainer_id, len(queue), *_last_full_page(queue),
                      len(roster), *_last_full_page(roster), len(offers), *deep_page(offers, OFFERS_PAGE_SIZE),
                      len(requests), *deep_page(requests, LIST_PAGE_SIZE), len(outbox),
                      *deep_page(outbox, LIST_PAGE_SIZE))
    session.rollback()
    return targets


def page_list(t: Targets) -> list[Page]:
    request = f"/coordination/demandes/{t.request_id}"
    return [
        Page("healthz", "`/healthz` (trivial reference)", None, "/healthz"),
        Page("home-admin", "Home, administrator `/accueil`", "admin", "/accueil"),
        Page("home-coordinator", f"Home, coordinator ({t.coordinator_scope})", "coordinator", "/accueil"),
        Page("home-trainer", f"Home, trainer (formateur.pfad, {t.offer_rows:,} offers waiting)", "trainer",
             "/accueil"),
        Page("offers", f"A trainer's offers `/propositions/` ({t.offer_rows:,}): first page", "trainer",
             "/propositions/"),
        Page("offers-deep", f"A trainer's offers: page {t.offers_deep_page} (`apres=`)", "trainer",
             f"/propositions/?apres={t.offers_deep_after}", first_page="offers"),
        Page("home-requester", f"Home, requester (principal.college, {t.request_rows:,} requests)", "requester",
             "/accueil"),
        Page("requests", f"A requester's requests `/demandes/` ({t.request_rows:,}): first page", "requester",
             "/demandes/"),
        Page("requests-deep", f"A requester's requests: page {t.requests_deep_page} (`apres=`)", "requester",
             f"/demandes/?apres={t.requests_deep_after}", first_page="requests"),
        Page("outbox", f"Outbox `/admin/messages` ({t.outbox_rows:,} messages): first page", "admin",
             "/admin/messages"),
        Page("outbox-deep", f"Outbox: page {t.outbox_deep_page} (`apres=`)", "admin",
             f"/admin/messages?apres={t.outbox_deep_after}", first_page="outbox"),
        Page("queue", "Request queue `/coordination/demandes`, coordinator (to examine)", "coordinator",
             "/coordination/demandes"),
        Page("queue-national", f"Request queue, national, every status ({t.queue_rows:,} requests): first page",
             "admin", "/coordination/demandes?statut="),
        Page("queue-deep", f"Request queue, national, every status: page {t.queue_deep_page} (`apres=`)", "admin",
             f"/coordination/demandes?statut=&apres={t.queue_deep_after}", first_page="queue-national"),
        Page("request", f"Request page `/coordination/demandes/<id>` ({t.sessions_in_request} sessions to "
                        "schedule), coordinator", "coordinator", request),
        Page("candidates", "Candidates of a session `…/interventions/<id>/candidats` (ranking), coordinator",
             "coordinator", f"{request}/interventions/{t.session_id}/candidats"),
        Page("roster", f"Roster `/formateurs/`, national ({t.roster_rows:,} trainers): first page", "admin",
             "/formateurs/"),
        Page("roster-deep", f"Roster, national: page {t.roster_deep_page} (`apres=`)", "admin",
             f"/formateurs/?apres={t.roster_deep_after}", first_page="roster"),
        Page("agenda", "A trainer's agenda `/formateurs/<id>` (formateur.pfad), coordinator", "coordinator",
             f"/formateurs/{t.trainer_id}"),
        Page("agenda-week", f"Agenda by trainer and day `/agenda/semaine`, coordinator ({t.coordinator_scope})",
             "coordinator", "/agenda/semaine"),
        Page("agenda-month", "Agenda `/agenda/mois`, coordinator (a month of the département)", "coordinator",
             "/agenda/mois"),
        Page("agenda-week-national", "Agenda `/agenda/semaine`, national (administrator): first page of trainers",
             "admin", "/agenda/semaine"),
        Page("agenda-week-national-deep", "Agenda, national: a deep page of trainers (`apres=`, the roster's deep key)",
             "admin", f"/agenda/semaine?apres={t.roster_deep_after}", first_page="agenda-week-national"),
        Page("agenda-month-national", "Agenda `/agenda/mois`, national (administrator): first page of trainers",
             "admin", "/agenda/mois"),
        Page("agenda-trainer", "A trainer's month `/agenda/mon-mois` (formateur.pfad)", "trainer", "/agenda/mon-mois"),
        Page("dashboard-coordinator", "Dashboard `/statistiques/`, coordinator (school year)", "coordinator",
             "/statistiques/"),
        Page("dashboard-national", "Dashboard `/statistiques/`, national (administrator, school year)", "admin",
             "/statistiques/"),
        # The JSON API's lists (#22), with a personal access token of the same accounts.
        Page("api-requests", f"API `/api/v1/requests`, requester ({t.request_rows:,}): first page", "requester",
             "/api/v1/requests", api=True),
        Page("api-requests-deep", "API `/api/v1/requests`, requester: a deep page (`after=`)", "requester",
             f"/api/v1/requests?after={t.requests_deep_after}", first_page="api-requests", api=True),
        Page("api-offers", f"API `/api/v1/offers`, trainer ({t.offer_rows:,}): first page", "trainer",
             "/api/v1/offers", api=True),
        Page("api-offers-deep", f"API `/api/v1/offers`, trainer: page {t.offers_deep_page} (`after=`)", "trainer",
             f"/api/v1/offers?after={t.offers_deep_after}", first_page="api-offers", api=True),
        Page("api-sessions", f"API `/api/v1/sessions`, coordinator ({t.coordinator_scope}): first page",
             "coordinator", "/api/v1/sessions", api=True),
        Page("api-requests-national", "API `/api/v1/requests`, national (administrator): first page", "admin",
             "/api/v1/requests", api=True),
        Page("api-trainers", "API `/api/v1/trainers`, national (administrator): first page", "admin",
             "/api/v1/trainers", api=True),
        Page("api-reports", "API `/api/v1/reports`, national (administrator): first page", "admin",
             "/api/v1/reports", api=True),
        Page("feed-trainer", "Trainer's feed `/calendrier/flux/<token>.ics`, 200", "trainer", feed=True),
        Page("feed-trainer-304", "Trainer's feed, 304 (`If-None-Match`)", "trainer", feed=True, conditional=True),
        Page("feed-coordinator", "Coordinator's feed, 200", "coordinator", feed=True),
        Page("feed-coordinator-304", "Coordinator's feed, 304 (`If-None-Match`)", "coordinator", feed=True,
             conditional=True),
    ]


# -- HTTP ---------------------------------------------------------------------------------------------


class Http:
    """One client connection (kept alive while the server keeps it) and, when logging in, its cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: str | None = None
                ) -> tuple[int, http.client.HTTPMessage, bytes]:
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.connection.request(method, path, body=body, headers=sent)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # a kept-alive connection the server had closed: once more on a new one
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            return response.status, response.headers, data
        raise AssertionError("unreachable")

    def keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def log_in_over_http(port: int, email: str, database_url: str) -> dict[str, str]:
    """The log-in form as a browser fills it, and the second factor's code when asked (the server's clock is
    frozen at NOW); returns the session's cookies."""
    from bench.dashboard import SECOND_FACTOR_PATH, second_factor_code

    client = Http(port)
    status, headers, body = client.request("GET", "/compte/connexion")
    client.keep_cookies(headers)
    match = CSRF.search(body.decode())
    if status != 200 or match is None:
        raise RuntimeError(f"GET /compte/connexion answered {status} without a CSRF token")
    form = urlencode({"email": email, "password": DEMO_PASSWORD,
                      "csrf_token": next(group for group in match.groups() if group)})
    status, headers, _ = client.request("POST", "/compte/connexion", {
        "Content-Type": "application/x-www-form-urlencoded"}, form)
    client.keep_cookies(headers)
    if status == 302 and headers.get("Location", "").endswith(SECOND_FACTOR_PATH):
        status, headers, body = client.request("GET", SECOND_FACTOR_PATH)  # the session's new CSRF token
        client.keep_cookies(headers)
        match = CSRF.search(body.decode())
        engine = create_engine(database_url)
        with engine.connect() as connection:
            code = second_factor_code(connection, email, NOW)
        engine.dispose()
        form = urlencode({"code": code, "csrf_token": next(group for group in match.groups() if group)})
        status, headers, _ = client.request("POST", SECOND_FACTOR_PATH, {
            "Content-Type": "application/x-www-form-urlencoded"}, form)
        client.keep_cookies(headers)
    if status != 302:
        raise RuntimeError(f"log-in as {email} answered {status}, not a redirect")
    status, headers, _ = client.request("GET", "/accueil")  # reads the welcome message once
    client.keep_cookies(headers)
    if status != 200:
        raise RuntimeError(f"/accueil as {email} answered {status}")
    client.close()
    return dict(client.cookies)


@dataclass(frozen=True)
class Timing:
    samples_ms: tuple[float, ...]
    seconds: float  # wall time of the timed requests
    server_ms: tuple[float, ...]  # what the app logged for them

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99(self) -> float:
        if len(self.samples_ms) < 2:
            return self.samples_ms[0]
        return statistics.quantiles(self.samples_ms, n=100, method="inclusive")[98]

    @property
    def per_second(self) -> float:
        return len(self.samples_ms) / self.seconds

    @property
    def server_p50(self) -> float | None:
        return statistics.median(self.server_ms) if self.server_ms else None


def hammer(port: int, path: str, headers: dict[str, str], expected: int, *, requests: int, concurrency: int,
           budget: float) -> tuple[tuple[float, ...], float]:
    """`requests` GETs from `concurrency` threads (or fewer when `budget` seconds run out): latencies, wall time."""
    counter, lock = itertools.count(), threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    ready = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def client() -> None:
        connection, mine = Http(port), []
        ready.wait()
        try:
            while True:
                with lock:
                    number = next(counter)
                if number >= requests or (number >= concurrency and time.perf_counter() > deadline[0]):
                    break
                started = time.perf_counter()
                status, _headers, _body = connection.request("GET", path, headers)
                mine.append((time.perf_counter() - started) * 1000)
                if status != expected:
                    failures.append(f"{path} answered {status}, not {expected}")
                    break
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + budget
    ready.wait()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(failures[0])
    return tuple(latencies), seconds


# -- the server ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    port: int
    log_path: Path
    _offset: int = 0

    def durations_since_mark(self) -> tuple[float, ...]:
        """`duration_ms` of the app's request log lines written since the last call."""
        with self.log_path.open("rb") as log:
            log.seek(self._offset)
            chunk = log.read()
        self._offset += len(chunk)
        durations = []
        for line in chunk.decode(errors="replace").splitlines():
            start = line.find('{"method"')
            if start >= 0:
                try:
                    durations.append(float(json.loads(line[start:])["duration_ms"]))
                except (ValueError, KeyError):
                    continue
        return tuple(durations)


@contextmanager
def gunicorn(database_url: str, folder: Path, secret_key: str) -> Iterator[Server]:
    """gunicorn as the deployment guide runs it (2 workers), on `database_url`; stopped on the way out.

    `secret_key`: the in-process app's, which created the feeds already in the database (a feed made
    under another key is not found at the address its page shows: see the notes)."""
    port = free_port()
    instance = folder / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"gunicorn-{port}.log"
    env = {**os.environ, "RELAIS_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": secret_key,
           "SESSION_COOKIE_SECURE": "0", "RELAIS_BEHIND_PROXY": "0", "RATELIMIT_ENABLED": "0",
           "RELAIS_INSTANCE_PATH": str(instance)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers", str(WORKERS),
             "--bind", f"127.0.0.1:{port}", "--max-requests", "0", "bench.frozen_app:app"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                client = Http(port)
                status, _headers, _body = client.request("GET", "/healthz")
                client.close()
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz within a minute")
            time.sleep(0.3)
        server = Server(port, log_path)
        server.durations_since_mark()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the databases ------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def copy_database(source: Engine, target: Engine) -> int:
    """Every table of the models, row for row (same ids), into an empty database; returns the rows copied.

    PostgreSQL gets COPY (foreign keys checked by nobody during the load: the rows come from a database
    that checked them), its sequences moved past the copied ids, and VACUUM ANALYZE, as autovacuum would do.
    """
    db.metadata.create_all(target)
    postgresql = target.dialect.name == "postgresql"
    quote = target.dialect.identifier_preparer
    copied = 0
    with source.connect() as reading, target.begin() as writing:
        if postgresql:
            writing.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            writing.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for table in db.metadata.sorted_tables:
            writing.execute(table.delete())  # rows create_all inserted itself (the statistics' revision)
            rows = reading.execution_options(yield_per=5000).execute(select(table))
            if postgresql:
                columns = ", ".join(quote.format_column(column) for column in table.columns)
                cursor = writing.connection.driver_connection.cursor()
                with cursor.copy(f"COPY {quote.format_table(table)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([_plain(value) for value in row])
                        copied += 1
                cursor.close()
            else:
                for chunk in rows.partitions():
                    writing.execute(insert(table), [dict(row._mapping) for row in chunk])
                    copied += len(chunk)
        if postgresql:
            for table in db.metadata.sorted_tables:
                keys = list(table.primary_key.columns)
                if len(keys) == 1 and isinstance(keys[0].type, Integer):
                    writing.execute(text(f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608
                                         f"COALESCE((SELECT MAX({quote.format_column(keys[0])}) FROM "
                                         f"{quote.format_table(table)}), 1))"),
                                    {"table": table.name, "column": keys[0].name})
    if postgresql:
        # What autovacuum does to freshly inserted tables since PostgreSQL 13: statistics for the planner, and
        # the visibility map that lets an index answer alone (without it every index scan visits the table).
        with target.connect().execution_options(isolation_level="AUTOCOMMIT") as maintenance:
            maintenance.exec_driver_sql("VACUUM ANALYZE")
    return copied


@contextmanager
def throwaway_postgresql(server_url: str) -> Iterator[str]:
    """An empty database on the server, dropped on the way out (connections included)."""
    name = f"relais_bench_pages_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# -- measuring ----------------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    description: str
    timings: dict[str, Timing] = field(default_factory=dict)
    feed_events: dict[str, int] = field(default_factory=dict)  # role → VEVENTs in its feed
    load_average: float = 0.0  # the machine's, over the minute before the server started (others' work too)


def _feed_path_and_etag(port: int, cookies: dict[str, str]) -> tuple[str, str, int]:
    client = Http(port)
    client.cookies = dict(cookies)
    status, _headers, body = client.request("GET", "/calendrier/")
    match = FEED_LINK.search(body.decode())
    if status != 200 or match is None:
        raise RuntimeError(f"/calendrier/ answered {status} without a feed address")
    path = f"/calendrier/flux/{match.group(1)}.ics"
    status, headers, body = client.request("GET", path)
    client.close()
    if status != 200 or not headers.get("ETag"):
        raise RuntimeError(f"the feed answered {status} without an ETag")
    return path, headers["ETag"], body.count(b"BEGIN:VEVENT")


def measure_server(server: Server, backend: Backend, pages: list[Page], accounts: dict[str, str], *,
                   database_url: str, requests: int, concurrency: int, budget: float,
                   log: Callable[[str], None]) -> None:
    # The accounts of the pages measured with their cookies (the API's pages carry a token instead).
    cookies = {role: log_in_over_http(server.port, email, database_url) for role, email in accounts.items()
               if any(page.role == role and not page.api for page in pages)}
    feeds = {}
    for role in sorted({page.role for page in pages if page.feed}):
        feeds[role] = _feed_path_and_etag(server.port, cookies[role])
        backend.feed_events[role] = feeds[role][2]
    for page in pages:
        headers: dict[str, str] = {}
        path, expected = page.path, 200
        if page.api:
            headers["Authorization"] = f"Bearer {API_TOKENS[page.role]}"
        elif page.role is not None and not page.feed:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies[page.role].items())
        if page.feed:
            path, etag, _events = feeds[page.role]
            if page.conditional:
                headers["If-None-Match"], expected = etag, 304
        hammer(server.port, path, headers, expected, requests=WARMUP_ROUNDS * concurrency, concurrency=concurrency,
               budget=WARMUP_BUDGET_SECONDS)
        server.durations_since_mark()
        samples, seconds = hammer(server.port, path, headers, expected, requests=requests,
                                  concurrency=concurrency, budget=budget)
        timing = Timing(samples, seconds, server.durations_since_mark())
        backend.timings[page.key] = timing
        log(f"pages, {backend.name}: {page.key}: p50 {timing.p50:.1f} ms, p99 {timing.p99:.1f} ms, "
            f"{timing.per_second:.0f} req/s ({len(samples)} requests)")


@dataclass(frozen=True)
class InProcess:
    """One request to a page through the test client: its SQL statements, and what they cost alone."""

    statements: int
    sql_ms: float  # the same statements re-run on the bare driver connection, rows fetched
    slowest_ms: float
    slowest: str  # the slowest statement, shortened


def _shorten(sql: str, length: int = 110) -> str:
    flat = " ".join(sql.split())
    flat = re.sub(r"SELECT (.{40}).*? FROM ", r"SELECT \1… FROM ", flat, count=1)
    return (flat[:length] + "…" if len(flat) > length else flat).replace("|", "\\|")


def _rerun(connection, statements: list[tuple[str, object]]) -> list[tuple[float, str]]:
    """Each statement again on the DB-API connection, every row fetched (SQLite computes most rows while
    fetching, which SQLAlchemy's execute events do not see)."""
    timings = []
    for sql, parameters in statements:
        cursor = connection.cursor()
        started = time.perf_counter()
        cursor.execute(sql, parameters)
        cursor.fetchall()
        timings.append(((time.perf_counter() - started) * 1000, sql))
        cursor.close()
    return timings


def in_process(app: Flask, engine: Engine, pages: list[Page], accounts: dict[str, str]) -> dict[str, InProcess]:
    """Each page once through the test client (clock frozen at NOW, after a warm-up request): SQL statements."""
    from bench.dashboard import log_in

    clients = {}
    clock.freeze(NOW)
    try:
        for role, email in accounts.items():
            clients[role] = app.test_client()
            with app.app_context():
                log_in(clients[role], email)
        feeds = {}
        for role in {page.role for page in pages if page.feed}:
            with app.app_context():
                body = clients[role].get("/calendrier/").get_data(as_text=True)
            feeds[role] = f"/calendrier/flux/{FEED_LINK.search(body).group(1)}.ics"
        found = {}
        for page in pages:
            client = clients[page.role] if page.role else app.test_client()
            path = feeds[page.role] if page.feed else page.path
            headers = {"Authorization": f"Bearer {API_TOKENS[page.role]}"} if page.api else {}
            with app.app_context():
                first = client.get(path, headers=headers)  # warm: the feed's VEVENTs cached, the SQL compiled
            if page.conditional:
                headers["If-None-Match"] = first.headers["ETag"]
            sent: list[tuple[str, object]] = []

            def keep(_connection, _cursor, sql, parameters, _context, _many, sent=sent) -> None:
                sent.append((sql, parameters))

            event.listen(engine, "before_cursor_execute", keep)
            try:
                with app.app_context():
                    response = client.get(path, headers=headers)
            finally:
                event.remove(engine, "before_cursor_execute", keep)
            if response.status_code not in (200, 304):
                raise RuntimeError(f"{path} answered {response.status_code} through the test client")
            with engine.connect() as connection:
                timings = _rerun(connection.connection.driver_connection, sent)
            slowest_ms, slowest = max(timings, default=(0.0, ""))
            found[page.key] = InProcess(len(sent), sum(ms for ms, _ in timings), slowest_ms, _shorten(slowest))
        return found
    finally:
        clock.unfreeze()


# -- verdicts and tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PagesResult:
    targets: Targets
    pages: list[Page]
    backends: list[Backend]  # SQLite first, then PostgreSQL when measured
    in_process: dict[str, InProcess]
    copy: str  # how the second database was made
    requests: int
    concurrency: int

    def timing(self, database: str, key: str) -> Timing | None:
        backend = next((b for b in self.backends if b.name == database), None)
        return backend.timings.get(key) if backend else None

    def misses(self, page: Page) -> list[str]:
        """The targets this page misses, in words (empty: every target met)."""
        misses = []
        sqlite, postgresql = self.timing("SQLite", page.key), self.timing("PostgreSQL", page.key)
        for name, timing in (("SQLite", sqlite), ("PostgreSQL", postgresql)):
            if timing is None:
                continue
            if timing.p99 >= P99_TARGET_MS:
                misses.append(f"p99 ≥ {P99_TARGET_MS:g} ms on {name}")
            reference = self.timing(name, "healthz")
            if page.key != "healthz" and reference and timing.p50 > HEALTHZ_FACTOR * reference.p50:
                misses.append(f"p50 > {HEALTHZ_FACTOR:g}× /healthz on {name} ({timing.p50 / reference.p50:.0f}×)")
            first = self.timing(name, page.first_page) if page.first_page else None
            if first and timing.p50 > DEEP_FACTOR * first.p50:
                misses.append(f"deeper than its first page costs more on {name} "
                              f"({timing.p50 / first.p50:.2f}×)")
        if sqlite and postgresql and postgresql.p50 > POSTGRESQL_FACTOR * sqlite.p50:
            misses.append(f"PostgreSQL p50 > {POSTGRESQL_FACTOR:g}× SQLite")
        if postgresql is None:
            misses.append("PostgreSQL not measured")
        return misses

    @property
    def failed(self) -> bool:
        return any(self.misses(page) for page in self.pages)


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _cells(timing: Timing | None) -> list[str]:
    if timing is None:
        return ["—", "—", "—"]
    return [_ms(timing.p50), _ms(timing.p99), f"{timing.per_second:,.0f}" if timing.per_second >= 10
            else f"{timing.per_second:.1f}"]


def pages_table(result: PagesResult) -> str:
    lines = ["| page | SQLite p50 | SQLite p99 | SQLite req/s | PG p50 | PG p99 | PG req/s | PG/SQLite | ok? |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for page in result.pages:
        sqlite, postgresql = result.timing("SQLite", page.key), result.timing("PostgreSQL", page.key)
        ratio = f"{postgresql.p50 / sqlite.p50:.1f}×" if sqlite and postgresql else "—"
        misses = result.misses(page)
        verdict = "yes" if not misses else "**no**: " + "; ".join(misses)
        lines.append(f"| {page.label} | " + " | ".join([*_cells(sqlite), *_cells(postgresql), ratio, verdict])
                     + " |")
    return "\n".join(lines)


def diagnostics_table(result: PagesResult) -> str:
    """Where the time goes: the app's own time per request (no queueing), and its SQL (in process, SQLite)."""
    lines = ["| page | app time p50, SQLite | app time p50, PG | SQL statements | their time alone | slowest "
             "statement | requests timed (SQLite, PG) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for page in result.pages:
        sqlite, postgresql = result.timing("SQLite", page.key), result.timing("PostgreSQL", page.key)
        counted = ", ".join(str(len(t.samples_ms)) if t else "—" for t in (sqlite, postgresql))
        found = result.in_process.get(page.key)
        sql = ([str(found.statements), _ms(found.sql_ms), f"{_ms(found.slowest_ms)}: `{found.slowest}`"]
               if found else ["—", "—", "—"])
        lines.append(f"| {page.label} | {_ms(sqlite.server_p50 if sqlite else None)} | "
                     f"{_ms(postgresql.server_p50 if postgresql else None)} | " + " | ".join(sql) + f" | {counted} |")
    return "\n".join(lines)


def pages_context(result: PagesResult) -> list[str]:
    t = result.targets
    feeds = "; ".join(f"{role}'s feed {events:,} VEVENTs" for role, events in result.backends[0].feed_events.items())
    return [
        f"Pages: gunicorn, {WORKERS} sync workers (`gunicorn.conf.py`, production configuration, "
        f"`--max-requests 0`), clock frozen at {NOW:%d/%m/%Y %H:%M} UTC; load: {result.concurrency} client threads "
        f"on loopback (`http.client`), up to {result.requests} timed requests per page or {BUDGET_SECONDS:g} s, "
        f"after {WARMUP_ROUNDS * result.concurrency} warm-up requests; databases: "
        + "; ".join(b.description for b in result.backends) + f" ({result.copy})",
        f"Pages measured: coordinator {t.coordinator}; request {t.request_id} ({t.sessions_in_request} sessions to "
        f"schedule), session {t.session_id}; trainer {t.trainer_id} ({t.offer_rows:,} offers waiting, "
        f"bench/lists.py); principal.college {t.request_rows:,} requests; {feeds}; machine load average (1 min) as "
        "each server started: " + ", ".join(f"{b.name} {b.load_average:.1f}" for b in result.backends)
        + f" on {os.cpu_count()} cores",
    ]


def pages_rows(result: PagesResult) -> list[Row]:
    """One row per page for the main table of `python -m bench`: p50 / p99 and requests per second, both databases."""
    rows = []
    for page in result.pages:
        values = []
        for name in DATABASES:
            timing = result.timing(name, page.key)
            if timing is not None:
                values.append(f"{name} {_ms(timing.p50)} / {_ms(timing.p99)}, {_cells(timing)[2]} req/s")
        misses = result.misses(page)
        if page.key == "healthz":
            target = f"p99 < {P99_TARGET_MS:g} ms, PG p50 ≤ {POSTGRESQL_FACTOR:g}× SQLite"
        else:
            target = (f"p50 ≤ {HEALTHZ_FACTOR:g}× /healthz, p99 < {P99_TARGET_MS:g} ms, PG p50 ≤ "
                      f"{POSTGRESQL_FACTOR:g}× SQLite")
            if page.first_page:
                target += f", p50 ≤ {DEEP_FACTOR:g}× its first page"
        rows.append(Row(f"Page under gunicorn, p50 / p99: {page.label}",
                        "; ".join(values) + (f" (missed: {'; '.join(misses)})" if misses else ""), target, not misses))
    return rows


# -- the whole benchmark ------------------------------------------------------------------------------


def bench_pages(app: Flask, *, folder: Path, requests: int = REQUESTS, concurrency: int = CONCURRENCY,
                budget: float = BUDGET_SECONDS, postgresql_server: str | None = POSTGRESQL_SERVER,
                log: Callable[[str], None] = lambda _message: None, only: set[str] | None = None) -> PagesResult:
    """Measures every page (or those of `only`, and /healthz) on the app's database and on a copy in the other
    database (SQLite ↔ PostgreSQL)."""
    from bench.report import database_description

    with app.app_context():
        log("pages: lists that grow with use (a trainer's offers, a requester's requests)…")
        grow_lists(db.session, NOW)
        db.session.commit()
        targets = find_targets(db.session)
        accounts = {**ACCOUNTS, "coordinator": targets.coordinator}
        pages = [page for page in page_list(targets) if not only or page.key in only or page.key == "healthz"]
        make_api_tokens(db.session, accounts)
        log("pages: each page once in process (SQL statements)…")
        profiles = in_process(app, db.engine, pages, accounts)
        db.session.remove()
        source = db.engine
        source_url = source.url.render_as_string(hide_password=False)
        source_description = database_description(source)
        source_is_sqlite = source.dialect.name == "sqlite"
        databases: list[tuple[str, str, str]] = []  # name, URL, description
        with throwaway_or_file(source, postgresql_server, folder, log) as (other_url, copy):
            if source_is_sqlite:
                databases.append(("SQLite", source_url, source_description))
                if other_url:
                    other = create_engine(other_url)
                    databases.append(("PostgreSQL", other_url, database_description(other)))
                    other.dispose()
            else:
                databases += [("SQLite", other_url, f"sqlite (a copy in {folder})"),
                              ("PostgreSQL", source_url, source_description)]
            source.dispose()
            backends = []
            for name, url, description in databases:
                backend = Backend(name, description, load_average=os.getloadavg()[0])
                log(f"pages: gunicorn on {name}…")
                with gunicorn(url, folder, app.config["SECRET_KEY"]) as server:
                    measure_server(server, backend, pages, accounts, database_url=url, requests=requests,
                                   concurrency=concurrency, budget=budget, log=log)
                backends.append(backend)
    return PagesResult(targets, pages, backends, profiles, copy, requests, concurrency)


@contextmanager
def throwaway_or_file(source: Engine, postgresql_server: str | None, folder: Path, log: Callable[[str], None]
                      ) -> Iterator[tuple[str | None, str]]:
    """The other database, holding a copy of `source`: PostgreSQL (throwaway) for SQLite, a file for PostgreSQL."""
    if source.dialect.name != "sqlite":
        url = f"sqlite:///{folder / 'pages.sqlite3'}"
        started = time.perf_counter()
        target = create_engine(url)
        rows = copy_database(source, target)
        target.dispose()
        yield url, f"SQLite: {rows:,} rows copied from PostgreSQL in {time.perf_counter() - started:.0f} s"
        return
    if not postgresql_server:
        yield None, "PostgreSQL not measured (no server given)"
        return
    try:
        probe = create_engine(postgresql_server)
        with probe.connect():
            pass
        probe.dispose()
    except Exception as error:  # noqa: BLE001 (any reason the server is out of reach: reported, not fatal)
        log(f"pages: no PostgreSQL at {postgresql_server}: {error}")
        yield None, f"PostgreSQL not measured: {type(error).__name__} on {make_url(postgresql_server).host}"
        return
    with throwaway_postgresql(postgresql_server) as url:
        log("pages: copying the database into a throwaway PostgreSQL database…")
        started = time.perf_counter()
        target = create_engine(url)
        rows = copy_database(source, target)
        target.dispose()
        seconds = time.perf_counter() - started
        log(f"pages: {rows:,} rows copied in {seconds:.0f} s")
        yield url, (f"PostgreSQL: a throwaway database, {rows:,} rows copied from the SQLite file in {seconds:.0f} s, "
                    "dropped at the end")


def pages_section(result: PagesResult, heading: str = "## Pages under gunicorn") -> str:
    """The pages' own table (both databases side by side), then where the time goes."""
    return "\n".join([heading, "", pages_table(result), "", WHERE_THE_TIME_GOES, "", diagnostics_table(result)])


def markdown(result: PagesResult, context: list[str]) -> str:
    lines = ["# Relais pages under gunicorn", ""] + [f"- {line}" for line in context + pages_context(result)]
    lines += ["", pages_section(result, "## Every page"), ""] + PAGES_NOTES
    return "\n".join(lines) + "\n"


WHERE_THE_TIME_GOES = (
    "Where the time goes: the app's own time per request under gunicorn (`duration_ms` of its request log: no "
    "queue, no network); the SQL statements of one request through the test client on the first database, and "
    "their time when re-run alone on the driver's connection, rows fetched (the rest of the app's time is "
    "Python: ORM, ranking, templates).")
PAGES_NOTES = [
    f"Pages: latency is the client's, from sending the request to its last byte, with {CONCURRENCY} clients on "
    f"{WORKERS} workers: one client per worker, so that a request never waits for a busy worker (with more "
    "clients than workers, the latency measured is the queue's: `--concurrency` sets the clients for such a "
    "saturation run). The app's own time (second table) leaves the network out. The load generator runs on "
    "the same machine as gunicorn and the database (2 cores for the clients, the 2 workers and PostgreSQL).",
]


def main(argv: list[str] | None = None) -> int:
    from app.domain.demo_year import generate_year
    from bench.dashboard import year_context
    from bench.data import DEMO_TODAY, YEAR_PAST_SHARE
    from bench.database import prepare_database, temporary_workdir
    from bench.report import machine_lines

    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an EMPTY database to fill (default: a fresh SQLite file)")
    parser.add_argument("--postgresql-server", default=POSTGRESQL_SERVER,
                        help=f"where to create the throwaway PostgreSQL database (default {POSTGRESQL_SERVER}); "
                             "'' to measure SQLite only")
    parser.add_argument("--requests", type=int, default=REQUESTS, help=f"timed requests per page (default {REQUESTS})")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help=f"client threads (default {CONCURRENCY})")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--pages", default="", help="the keys of the pages to measure, separated by commas "
                                                    "(default: every page; /healthz always)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    with temporary_workdir() as folder:
        log("national demo data set…")
        app, database = prepare_database(args.database_url, Path(folder), seed=args.seed, today=DEMO_TODAY,
                                         use_cache=not args.no_cache)
        with app.app_context():
            log("a school year of sessions…")
            year = generate_year(db.session, now=NOW, seed=args.seed, past_share=YEAR_PAST_SHARE)
            db.session.commit()
            context = machine_lines(db.engine, None if args.database_url else "a fresh file in a temporary folder")
            context += [f"Data: national demo (seed {args.seed}): {database.trainers:,} trainers, "
                        f"{database.establishments:,} establishments; database {database.origin}",
                        year_context(year)]
            db.session.remove()
        result = bench_pages(app, folder=Path(folder), requests=args.requests, concurrency=args.concurrency,
                             postgresql_server=args.postgresql_server or None, log=log,
                             only={key for key in args.pages.split(",") if key})
    print(markdown(result, context))
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
