"""Helpers shared by test modules: the test client used as a browser would, counting SQL statements, reading the
e-mails an SMTP server received, the database between tests, skipping. Builders of objects and data live in
tests/factories.py, fixtures in the conftest.py files; a test module imports from neither another test module
nor a conftest."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, exists, func, literal, select, text, union_all

from app.extensions import db
from tests.factories import PASSWORD

# CI sets this so that a missing browser or database fails instead of skipping.
REQUIRE_ALL = os.environ.get("RELAIS_REQUIRE_ALL_TESTS") == "1"
# Kept between tests: the reference tables, and the single row of the statistics' revision.
KEPT_TABLES = frozenset({"departement", "topic", "audience", "statistics_revision"})
CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
# Endpoints that are no view of the application (files), left out of the access audit.
SKIPPED_ENDPOINTS = frozenset({"static", "bootstrap.static"})


def skip_or_fail(reason: str) -> None:
    """For a part this machine lacks (Chromium, Redis, PostgreSQL): a developer's run skips the tests that need it,
    saying why; CI (RELAIS_REQUIRE_ALL_TESTS=1, set by .ci/run, which installs them all) fails instead."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (RELAIS_REQUIRE_ALL_TESTS=1: nothing may be skipped)")
    pytest.skip(reason)


# The database


def empty_tables() -> None:
    """Delete every row a test may have written (the reference tables stay), restart the identifiers, commit.

    Only the tables that hold rows are emptied, found by one statement, and with DELETE: a test leaves a few rows,
    which PostgreSQL deletes in about a millisecond a table, where TRUNCATE takes about ten, empty or not."""
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    filled = set(db.session.scalars(union_all(*(
        select(literal(t.name)).where(exists(select(literal(1)).select_from(t))) for t in tables))))
    # References that close a cycle between tables (created after both, use_alter) go first.
    for table in tables:
        cyclic = [fk.parent for fk in table.foreign_keys if fk.use_alter]
        if table.name in filled and cyclic:
            db.session.execute(table.update().values({column.name: None for column in cyclic}))
    for table in tables:
        if table.name in filled:
            db.session.execute(table.delete())
    if db.engine.dialect.name == "postgresql":
        restart_identifiers()
    from app.domain.audit import discard_pending

    discard_pending(db.session)  # emptying the tables is no change to record in the audit trail (#21)
    db.session.commit()


_sequences: dict[str, list[str]] = {}


def restart_identifiers() -> None:
    """PostgreSQL: every table's identifiers start at 1 again, as after TRUNCATE … RESTART IDENTITY (a rolled-back
    insert uses up its identifier too)."""
    url = db.engine.url.render_as_string()
    if url not in _sequences:
        found = db.session.scalars(union_all(*(
            select(func.pg_get_serial_sequence(f'"{table.name}"', column.name))
            for table in db.metadata.sorted_tables if table.name not in KEPT_TABLES
            for column in table.primary_key.columns)))
        _sequences[url] = sorted(name for name in found if name)
    if _sequences[url]:
        db.session.execute(select(*(func.setval(name, 1, False) for name in _sequences[url])))


@contextmanager
def database_beside(url: str, suffix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database named after the one of `url` and `suffix`, dropped at the end."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    given = make_url(url)
    name = f"{given.database}_{suffix}"
    admin = create_engine(given.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield given.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def empty_database(database_url: str, tmp_path, suffix: str) -> Iterator[str]:
    """A brand-new database of the same kind as the suite's: a file in `tmp_path` for SQLite, a PostgreSQL
    database beside the suite's (`database_beside`) otherwise."""
    from sqlalchemy.engine import make_url

    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / f'{suffix}.sqlite3'}"
        return
    with database_beside(database_url, suffix) as url:
        yield url


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# The test client, as a browser uses the pages


def csrf_token_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def post_form(client, url: str, data: dict, page: str | None = None, **kwargs):
    """Posts a form as a browser would: first load the page to get its CSRF token."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token_from(html)}, **kwargs)


def login(client, user, password: str = PASSWORD):
    """Logs the person in through the form; a coordinator or admin gives the code of their authenticator too (their
    enrolled secret: tests/factories.py), as the second step asks."""
    response = post_form(client, "/compte/connexion", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    if response.location.endswith("/compte/double-authentification"):
        response = post_form(client, "/compte/double-authentification", {"code": current_totp_code(user.email)})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def enrol_second_factor(client) -> tuple[str, str]:
    """Enrols the second factor on the page a coordinator or admin is sent to: (the secret shown, the page of the
    recovery codes)."""
    from app.domain import two_factor
    from app.domain.clock import utcnow

    page = client.get("/compte/double-authentification/activer").get_data(as_text=True)
    match = re.search(r'<code class="fs-5 text-break" id="cle-secrete">([A-Z2-7 ]+)</code>', page)
    assert match, page[:2000]
    secret = match.group(1).replace(" ", "")
    code = two_factor.code_at(secret, two_factor.current_step(utcnow()))
    response = post_form(client, "/compte/double-authentification/activer", {"code": code})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return secret, response.get_data(as_text=True)


def current_totp_code(email: str) -> str:
    """The code the person's authenticator shows now. A test logs the same person in several times a minute, where
    a code is accepted once: the step last accepted is forgotten first."""
    from flask import current_app
    from sqlalchemy import update

    from app.domain import caldav_push, two_factor
    from app.domain.clock import utcnow
    from app.models import User

    db.session.execute(update(User).where(User.email == email).values(totp_last_step=None))
    db.session.commit()
    user = db.session.scalar(select(User).where(User.email == email))
    secret = two_factor.secret_of(user, caldav_push.keys_from(current_app.config))
    assert secret, f"{email} has no second factor enrolled"
    return two_factor.code_at(secret, two_factor.current_step(utcnow()))  # the application's clock, maybe frozen


def switch_to(client, user) -> None:
    """Log out, then in as someone else (one client: Flask-Login keeps the user of the app context)."""
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    login(client, user)


def candidates_url(intervention) -> str:
    return f"/coordination/demandes/{intervention.request_id}/interventions/{intervention.id}/candidats"


def offer_by_coordinator(client, intervention, trainer, assign: bool = False):
    """The logged-in coordinator offers (or assigns) the session to the trainer at its best candidate's first
    start, from the candidates page."""
    from app.domain.clock import utcnow
    from app.domain.matching import rank_intervention

    page = client.get(candidates_url(intervention)).get_data(as_text=True)
    start = rank_intervention(db.session, intervention.id, utcnow()).candidates[0].all_starts[0]
    data = {f"c{trainer.id}-csrf_token": csrf_token_from(page), f"c{trainer.id}-starts_at": start.isoformat(),
            f"c{trainer.id}-{'assign' if assign else 'offer'}": "y"}
    return client.post(f"/propositions/interventions/{intervention.id}/formateurs/{trainer.id}", data=data)


def view_roles(app) -> dict:
    """endpoint -> (rule, declared roles (None: public)); fails for any view that declares nothing."""
    declared = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "allowed_roles"), (
            f"{rule.endpoint} ({rule.rule}) declares no access rule: use @role_required(...) or @public")
        declared[rule.endpoint] = (rule, view.allowed_roles)
    return declared


# E-mail


class RecordingHandler:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list = []
        self.raw: list[bytes] = []  # the bytes as they came over the wire

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        from email import message_from_bytes, policy

        self.raw.append(envelope.original_content or envelope.content)
        self.messages.append(message_from_bytes(self.raw[-1], policy=policy.default))
        return "250 Message accepted for delivery"


def with_calendar(messages) -> list:
    return [m for m in messages if any(p.get_content_type() == "text/calendar" for p in m.walk())]


def calendars_of(messages) -> list[tuple]:
    """(recipient, subject, calendar) for each received e-mail with a calendar, from its text/calendar part, which
    icalendar, vobject and ical.js all read (`assert_parses_everywhere`)."""
    found = []
    for message in with_calendar(messages):
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert len(parts) == 1, "one calendar part in the alternative"
        data = parts[0].get_content()
        assert parts[0].get_param("method") in ("REQUEST", "CANCEL")
        attachments = [p for p in message.walk() if p.get_filename() == "invitation.ics"]
        assert len(attachments) == 1, "the same calendar as an .ics attachment"
        found.append((message["To"], message["Subject"], assert_parses_everywhere(data).calendar))
    return sorted(found, key=lambda item: item[0])


# Calendars, read as the mail systems and calendars read them

ROOT = Path(__file__).resolve().parent.parent
ICALJS_SCRIPT = ROOT / "tests" / "icaljs_check.mjs"
ICALJS_MODULE = ROOT / "node_modules" / "ical.js" / "package.json"


@dataclass(frozen=True)
class ParsedEverywhere:
    """One calendar as three independent parsers read it: `calendar` (icalendar, Python), `vobject` (vobject's
    component) and `icaljs` (what Mozilla's ical.js understood, from tests/icaljs_check.mjs: method, version,
    timezones and, per VEVENT, uid, summary, location, description, status, sequence, start and end as UTC
    instants computed from the calendar's own VTIMEZONEs, zone, organizer and attendees)."""

    calendar: Any
    vobject: Any
    icaljs: dict

    @property
    def icaljs_events(self) -> list[dict]:
        return self.icaljs["events"]

    def icaljs_event(self, uid: str) -> dict:
        [event] = [e for e in self.icaljs_events if e["uid"] == uid]
        return event

    def icaljs_start(self, uid: str) -> datetime:
        """The instant ical.js computed for the event's DTSTART (through the calendar's VTIMEZONE), aware, UTC."""
        return _utc_instant(self.icaljs_event(uid)["start"])


def _utc_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def icaljs_read(text: str) -> dict:
    """What ical.js reads in `text` (node and `npm ci` needed: skipped on a developer's machine without them,
    a failure in CI)."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed: ical.js cannot read the calendars (apt-get install nodejs npm)")
    if not ICALJS_MODULE.exists():
        skip_or_fail("ical.js is not installed in node_modules: run `make install-dev` (npm ci)")
    completed = subprocess.run([node, str(ICALJS_SCRIPT)], input=text.encode("utf-8"), capture_output=True,
                               cwd=ROOT, timeout=60, check=False)
    assert completed.returncode == 0, (
        f"ical.js refuses the calendar: {completed.stderr.decode(errors='replace')}\n{text}")
    return json.loads(completed.stdout)


def assert_parses_everywhere(ics: bytes | str) -> ParsedEverywhere:
    """Reads one iCalendar text with icalendar, vobject and Mozilla's ical.js, fails if any refuses it or if they
    disagree on its events (UIDs, and the instant each starts and ends: icalendar reads a TZID through its own zone
    database, ical.js through the calendar's VTIMEZONE, so a VTIMEZONE that says another offset than the real zone
    fails here), and returns the three readings to compare with what the test expects."""
    import vobject
    from icalendar import Calendar

    text = ics.decode("utf-8") if isinstance(ics, bytes) else ics
    calendar = Calendar.from_ical(text)
    assert calendar.name == "VCALENDAR"
    second = vobject.readOne(text)
    icaljs = icaljs_read(text)
    events = calendar.walk("VEVENT")
    uids = [str(event["UID"]) for event in events]
    assert [e["uid"] for e in icaljs["events"]] == uids, "ical.js reads the same events"
    assert [v.uid.value for v in second.contents.get("vevent", [])] == uids, "vobject reads the same events"
    for vevent, read in zip(events, icaljs["events"], strict=True):
        for name, key in (("DTSTART", "start"), ("DTEND", "end")):
            if name not in vevent:
                continue
            moment = vevent.decoded(name)
            if isinstance(moment, datetime) and moment.tzinfo is not None:
                assert _utc_instant(read[key]) == moment.astimezone(UTC), (
                    f"{vevent['UID']}: {name} is {moment.astimezone(UTC)} for icalendar, {read[key]} for ical.js "
                    "(the VTIMEZONE disagrees with the zone)")
    return ParsedEverywhere(calendar=calendar, vobject=second, icaljs=icaljs)


def post_upload(client, url: str, filename: str, content: bytes, **fields):
    """Sends a file through the form of `url` as a browser would (its CSRF token first), with other fields."""
    import io

    html = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(html), "file": (io.BytesIO(content), filename), **fields}
    return client.post(url, data=data, content_type="multipart/form-data")


def request_anew(client, method: str, url: str, **kwargs):
    """One request served as a browser's next request is: in an app context of its own, so that Flask-Login reads
    the person from the cookies again (inside the test's app context it keeps the person of the last request)."""
    with client.application.app_context():
        return client.open(url, method=method, **kwargs)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn_running(env: dict, log_path, workers: int = 2) -> Iterator[str]:
    """gunicorn as docs/deployment.md runs it (gunicorn.conf.py, production settings unless `env` says otherwise),
    its access and error logs written to `log_path`; yields its address once /healthz answers."""
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "RELAIS_ENV": "production", "SESSION_COOKIE_SECURE": "0",
                   "RELAIS_INSTANCE_PATH": str(Path(log_path).parent), "RELAIS_BASE_URL": base, **env}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers",
                                    str(workers), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                                   cwd=Path(__file__).resolve().parent.parent, env=environment, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as answer:  # noqa: S310 (loopback)
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not answer /healthz:\n" + Path(log_path).read_text(errors="replace"))
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
