"""The autopilot's tick on the national month (#20): what `flask tick` costs every few minutes.

Every scope is in its demo mode (« proposé » by default, a few « automatique »): the first tick plans each scope
with sessions waiting, keeping its proposal or sending its offers; the second reads again the scopes whose offers
went out (their own writes are newer than what they read); the next ones, with nothing new, read only the audit
trail's entries written since (`app.domain.scope_changes`) and load no scope; after one trainer's absence, only
that trainer's scopes are loaded again. Each tick is the real job (`app.jobs.autopilot_tick`) in a session of its
own, as `flask tick` runs it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, func, select

from app.domain import autopilot
from app.domain.roster import add_exception
from app.extensions import db
from app.jobs import autopilot_tick
from app.models import AutopilotProposal, Departement, ExceptionKind, Trainer
from app.unit_of_work import run
from bench.report import Row

QUIET_RUNS = 5
QUIET_SECONDS_TARGET = 2.0  # a tick runs every few minutes: nothing new must cost next to nothing


@dataclass(frozen=True)
class Tick:
    seconds: float
    scopes_loaded: int
    statements: int


@dataclass(frozen=True)
class AutopilotResult:
    scopes: int
    proposals: int
    first: Tick
    second: Tick
    quiet: tuple[Tick, ...]
    after_change: Tick
    changed_trainer_scopes: int

    @property
    def quiet_median(self) -> float:
        return statistics.median(t.seconds for t in self.quiet)


@contextmanager
def _counting_loads() -> Iterator[list[int]]:
    """Counts the scopes whose problem a tick loads (the measure only wraps the loader, it changes nothing)."""
    loads: list[int] = []
    original = autopilot.load_planning_problem

    def counted(*args, **kwargs):
        loads.append(1)
        return original(*args, **kwargs)

    autopilot.load_planning_problem = counted
    try:
        yield loads
    finally:
        autopilot.load_planning_problem = original


def _tick(now: datetime) -> Tick:
    statements = []
    listener = lambda *_args: statements.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with _counting_loads() as loads:
            started = time.perf_counter()
            autopilot_tick(db.session, now)
            db.session.commit()
            seconds = time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    db.session.remove()
    return Tick(seconds, len(loads), len(statements))


def bench_autopilot(now: datetime, log: Callable[[str], None]) -> AutopilotResult:
    scopes = autopilot.scopes_to_plan(db.session)
    log(f"autopilot: first tick over {len(scopes)} scopes…")
    first = _tick(now)
    proposals = db.session.scalar(select(func.count()).select_from(AutopilotProposal))
    second = _tick(now + timedelta(minutes=5))
    quiet = [_tick(now + timedelta(minutes=5 * (run + 2))) for run in range(QUIET_RUNS)]
    log(f"autopilot: first {first.seconds:.1f} s, second {second.seconds:.1f} s, "
        f"quiet {[round(t.seconds, 2) for t in quiet]} s")
    # A trainer of the first scope with sessions waiting off for a day: their scopes, and only those, are read again.
    code, force = scopes[0]
    trainer = db.session.scalars(select(Trainer).join(Trainer.departements)
                                 .where(Trainer.active, Trainer.force == force, Departement.code == code)
                                 .order_by(Trainer.id)).first()
    codes = [d.code for d in trainer.departements]
    day = now.date() + timedelta(days=20)
    run(lambda: add_exception(trainer, ExceptionKind.UNAVAILABLE, day, None, day, None, "Formation", "Europe/Paris",
                              now))
    db.session.remove()
    after_change = _tick(now + timedelta(minutes=5 * (QUIET_RUNS + 2)))
    return AutopilotResult(len(scopes), proposals, first, second, tuple(quiet), after_change, len(codes))


def autopilot_rows(result: AutopilotResult) -> list[Row]:
    quiet_statements = sorted({t.statements for t in result.quiet})
    return [
        Row(f"Autopilot tick, first (`autopilot_tick`, {result.scopes} scopes with sessions waiting: each planned, "
            f"{result.proposals} proposals kept, the others' offers sent)",
            f"{result.first.seconds:.1f} s, {result.first.scopes_loaded} scope(s) loaded, "
            f"{result.first.statements:,} SQL statements"),
        Row("Autopilot tick, the next one (the scopes that sent offers read them)",
            f"{result.second.seconds:.1f} s, {result.second.scopes_loaded} scope(s) loaded, "
            f"{result.second.statements:,} SQL statements"),
        Row(f"Autopilot tick, nothing new since (median of {len(result.quiet)})",
            f"{result.quiet_median:.2f} s, {max(t.scopes_loaded for t in result.quiet)} scope(s) loaded, "
            f"{'/'.join(str(s) for s in quiet_statements)} SQL statements",
            f"< {QUIET_SECONDS_TARGET:.0f} s, no scope loaded",
            result.quiet_median < QUIET_SECONDS_TARGET and all(t.scopes_loaded == 0 for t in result.quiet)),
        Row("Autopilot tick after one trainer's absence",
            f"{result.after_change.seconds:.2f} s, {result.after_change.scopes_loaded} scope(s) loaded (the trainer "
            f"serves {result.changed_trainer_scopes} département(s))",
            "only the trainer's scopes loaded",
            0 < result.after_change.scopes_loaded <= result.changed_trainer_scopes),
    ]
