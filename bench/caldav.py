"""`python -m bench.caldav`: pushing 1,000 session changes into a trainer's own CalDAV calendar (#19).

A Radicale server (the dev dependency the tests use) on loopback, in a temporary folder; a fresh SQLite file (or an
EMPTY database given with --database-url); one trainer with 1,000 confirmed sessions and their calendar connected
through `caldav_push.connect`. Then three waves of 1,000 changes, each queued as the invitations queue them
(`enqueue_push` in the change's transaction, the calendar text already built) and written by the worker
(`push_due`, as `flask tick` runs it): the sessions created (PUT), moved (PUT with If-Match), cancelled (DELETE
with If-Match). Each wave: the time to queue (per change, and the SQL statements of one), the worker's time
(changes per second), and the calendar read back (1,000 events with the latest times, then none).
Prints one Markdown table; --write also saves it to bench/results/caldav.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, select

RESULTS = Path(__file__).resolve().parent / "results" / "caldav.md"
CHANGES = 1000
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
# Relais's own time per change written (claim, record, COMMIT, the client's work), the server's answer aside: the
# server's speed is its own (Radicale on its filesystem is slow, and slower as the calendar grows).
OWN_MS_TARGET = 20


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sessions(trainer, count: int):
    from app.extensions import db
    from app.models import (
        Assignment,
        AssignmentStatus,
        Intervention,
        InterventionRequest,
        InterventionStatus,
    )
    from tests.factories import make_establishment, make_user

    establishment = make_establishment("69", force=trainer.force)
    creator = make_user("requester", establishment_id=establishment.id)
    request = InterventionRequest(establishment_id=establishment.id, created_by_id=creator.id, departement_code="69",
                                  force=trainer.force, contact_name="CPE", contact_phone="04 78 00 00 00",
                                  contact_email="cpe@college.example")
    db.session.add(request)
    start = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    sessions = []
    for number in range(count):
        starts = start + timedelta(days=number // 4, hours=2 * (number % 4))
        intervention = Intervention(request=request, group_label=f"Groupe {number + 1}", departement_code="69",
                                    force=trainer.force, starts_at=starts, ends_at=starts + timedelta(hours=1),
                                    status=InterventionStatus.CONFIRMED, accepted_count=1, confirmed_at=NOW)
        intervention.assignments.append(Assignment(trainer_id=trainer.id, status=AssignmentStatus.ACCEPTED,
                                                   accepted_at=NOW))
        sessions.append(intervention)
    db.session.add_all(sessions)
    db.session.commit()
    return sessions


waited: list[float] = []  # seconds of each HTTP exchange of the worker with the server


def _time_the_server() -> None:
    """Times every request the caldav client makes: the server's share of the worker's time (a loopback exchange:
    Radicale's own work, and its wait for the CPU that this machine's other processes leave it)."""
    import caldav

    original = caldav.DAVClient.request

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            waited.append(time.perf_counter() - started)

    caldav.DAVClient.request = timed


def _reload(ids: list[int]):
    from app.extensions import db
    from app.models import Intervention

    return db.session.scalars(select(Intervention).where(Intervention.id.in_(ids)).order_by(Intervention.id)).all()


def _wave(app, user, sessions, method: str, server, calendar_id: str) -> dict:
    """Queue one change of every session (as app.invitations does, in the change's transaction), then write them."""
    from app.domain import caldav_push
    from app.domain.calendar import TRAINER
    from app.emails import url_context
    from app.extensions import db
    from app.invitations import event_calendar
    from app.models import CalendarPush, PushStatus

    texts = {}
    if method == "REQUEST":
        with url_context():
            texts = {s.id: event_calendar(s, TRAINER, method).decode("utf-8") for s in sessions}
    statements: list[int] = []
    queue_ms: list[float] = []
    for intervention in sessions:
        count = [0]

        def counter(*_args, count=count):
            count[0] += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        started = time.perf_counter()
        caldav_push.enqueue_push(db.session, user, intervention, texts.get(intervention.id), method, NOW)
        db.session.commit()
        queue_ms.append((time.perf_counter() - started) * 1000)
        event.remove(db.engine, "before_cursor_execute", counter)
        statements.append(count[0])
    # The worker's own session, as `flask tick` has: not one holding the wave's thousand sessions, which every
    # COMMIT would expire one by one.
    db.session.expunge_all()
    keys = caldav_push.keys_from(app.config)
    waited.clear()
    started = time.perf_counter()
    written = failed = 0
    while True:
        outcome = caldav_push.push_due(db.session, NOW, keys, limit=200, timeout=10)
        written, failed = written + outcome.written, failed + outcome.failed
        if outcome.written + outcome.failed == 0:
            break
    seconds = time.perf_counter() - started
    server_seconds, requests = sum(waited), len(waited)
    left = db.session.scalar(select(func.count(CalendarPush.id)).where(CalendarPush.status != PushStatus.DONE))
    events = server.events(calendar_id)
    return {"queue_p50": statistics.median(queue_ms), "queue_p95": sorted(queue_ms)[int(len(queue_ms) * 0.95) - 1],
            "statements": statements[len(statements) // 2], "seconds": seconds, "written": written,
            "failed": failed, "left": left, "events": events, "server_seconds": server_seconds,
            "requests": requests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.caldav", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an EMPTY database (default: a fresh SQLite file in a temporary folder)")
    parser.add_argument("--changes", type=int, default=CHANGES,
                        help=f"sessions, so changes per wave (default {CHANGES})")
    parser.add_argument("--write", action="store_true", help="also write the table to bench/results/caldav.md")
    args = parser.parse_args(argv)

    from app.domain import caldav_push
    from app.domain.clock import clock
    from app.domain.reference_data import sync_reference_data
    from app.extensions import db
    from app.models import User
    from bench.database import bench_app, temporary_workdir
    from bench.report import machine_lines
    from tests.factories import make_qualified_trainer
    from tests.radicale import PASSWORD, USER, Radicale

    with temporary_workdir() as folder:
        url = args.database_url or f"sqlite:///{folder}/caldav-bench.sqlite3"
        app = bench_app(url)
        server = Radicale(Path(folder))
        server.start()
        _time_the_server()
        try:
            with app.app_context():
                clock.freeze(NOW)
                db.create_all()
                sync_reference_data(db.session)
                db.session.commit()
                server.make_calendar("service", "Service")
                trainer = make_qualified_trainer()
                db.session.commit()
                caldav_push.connect(db.session, trainer.user, server.url, USER, PASSWORD,
                                    caldav_push.keys_from(app.config), NOW, allow_http=True, timeout=10)
                db.session.commit()
                log(f"{args.changes} sessions…")
                sessions = _sessions(trainer, args.changes)
                log("wave 1: created (PUT)…")
                ids = [s.id for s in sessions]
                user_id = trainer.user_id
                user = db.session.get(User, user_id)
                created = _wave(app, user, sessions, "REQUEST", server, "service")
                log("wave 2: moved (PUT with If-Match)…")
                sessions, user = _reload(ids), db.session.get(User, user_id)
                for intervention in sessions:
                    intervention.starts_at += timedelta(minutes=30)
                    intervention.ends_at += timedelta(minutes=30)
                    intervention.ical_sequence += 1
                db.session.commit()
                moved = _wave(app, user, sessions, "REQUEST", server, "service")
                sessions, user = _reload(ids), db.session.get(User, user_id)
                moved_right = sum(1 for s in sessions if len(moved["events"].get(s.ical_uid, [])) == 1 and next(
                    iter(moved["events"][s.ical_uid][0].walk("VEVENT"))).decoded("DTSTART") == s.starts_at)
                log("wave 3: cancelled (DELETE with If-Match)…")
                cancelled = _wave(app, user, sessions, "CANCEL", server, "service")
                report = _report(args.changes, created, moved, moved_right, cancelled,
                                 machine_lines(db.engine, None if args.database_url else "a fresh file in a "
                                                                                          "temporary folder"))
                clock.unfreeze()
        finally:
            server.stop()
    print(report)
    if args.write:
        RESULTS.write_text(report)
    return 0 if "**no**" not in report else 1


def _report(count: int, created: dict, moved: dict, moved_right: int, cancelled: dict, machine: list[str]) -> str:
    from importlib.metadata import version

    lines = ["# Relais benchmark: the CalDAV push (#19)", ""]
    lines += [f"- {line}" for line in machine]
    lines += [f"- Server: Radicale {version('radicale')} on loopback (filesystem storage, plain htpasswd); client: "
              f"caldav {version('caldav')}; {count:,} confirmed sessions of one trainer, one calendar",
              f"- Run on {date.today():%d/%m/%Y}", "",
              "| measure | value | target | ok? |", "| --- | --- | --- | --- |"]

    def rows(name: str, wave: dict, check: bool, check_text: str) -> None:
        rate = wave["written"] / wave["seconds"] if wave["seconds"] else 0
        own_ms = (wave["seconds"] - wave["server_seconds"]) / max(wave["written"], 1) * 1000
        lines.append(f"| {name}: queueing one change (`enqueue_push` + COMMIT), p50 / p95 | "
                     f"{wave['queue_p50']:.1f} / {wave['queue_p95']:.1f} ms, {wave['statements']} SQL statements | — "
                     f"| — |")
        lines.append(f"| {name}: the worker writes {count:,} changes (`push_due`) | {wave['seconds']:.1f} s, "
                     f"{rate:.1f} changes/s, {wave['requests']:,} HTTP requests, {wave['failed']} failed, "
                     f"{wave['left']} left | none failed or left, one request a change | "
                     f"{'yes' if (wave['failed'], wave['left'], wave['requests']) == (0, 0, count) else '**no**'} |")
        lines.append(f"| {name}: of which waiting for the server / Relais's own time per change | "
                     f"{wave['server_seconds']:.1f} s / {own_ms:.1f} ms | own time < {OWN_MS_TARGET} ms | "
                     f"{'yes' if own_ms < OWN_MS_TARGET else '**no**'} |")
        lines.append(f"| {name}: read back from the server | {check_text} | as written | "
                     f"{'yes' if check else '**no**'} |")

    created_ok = len(created["events"]) == count and all(len(v) == 1 for v in created["events"].values())
    rows("Sessions created (PUT)", created, created_ok, f"{len(created['events']):,} events, one per UID")
    rows("Sessions moved (PUT, If-Match)", moved, moved_right == count, f"{moved_right:,} events at their new time")
    rows("Sessions cancelled (DELETE, If-Match)", cancelled, not cancelled["events"],
         f"{len(cancelled['events']):,} events left")
    lines += ["", "Each change is queued in its own transaction, as a change of a session is; the worker claims 20 "
              "rows at a time (a conditional UPDATE each, SKIP LOCKED on PostgreSQL), writes each with one HTTP "
              "request through `caldav` (one connection kept per calendar) and records it in its own COMMIT."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
