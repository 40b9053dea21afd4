"""Ranking one session end to end, as the coordinator's page asks for it: time and SQL statements.

Each ranking starts from an empty session (the previous transaction is rolled back, which expires
every loaded object), so nothing is served from SQLAlchemy's identity map: every ranking pays for
its queries, as a web request does.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.domain.matching import rank_intervention

# The first rankings fill process-wide caches (holiday calendars, time zones, compiled SQL).
WARMUP_RANKINGS = 10


@dataclass(frozen=True)
class RankingResult:
    rankings: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    statements: tuple[int, ...]  # per ranking, in the order run
    mean_candidates: float
    mean_excluded: float

    @property
    def statements_are_fixed(self) -> bool:
        return len(set(self.statements)) == 1


class StatementCounter:
    """Counts the SQL statements sent through an engine while active (cursor executions, not pings)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0

    def _count(self, *_args: object) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


def percentile(values: list[float], share: int) -> float:
    """The `share`-th percentile, interpolated between the closest ranks."""
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def bench_ranking(session: Session, engine: Engine, intervention_ids: list[int], now: datetime, *,
                  sample: int, seed: int) -> RankingResult:
    """Ranks `sample` sessions drawn at random (after a short warm-up) and summarises the timings."""
    rng = random.Random(seed)
    chosen = rng.sample(intervention_ids, min(sample + WARMUP_RANKINGS, len(intervention_ids)))
    warmup, measured = chosen[:WARMUP_RANKINGS], chosen[WARMUP_RANKINGS:]
    for intervention_id in warmup:
        rank_intervention(session, intervention_id, now)
        session.rollback()
    timings: list[float] = []
    statements: list[int] = []
    candidates: list[int] = []
    excluded: list[int] = []
    for intervention_id in measured:
        with StatementCounter(engine) as counter:
            started = time.perf_counter()
            ranking = rank_intervention(session, intervention_id, now)
            timings.append((time.perf_counter() - started) * 1000)
        if ranking is None:
            raise RuntimeError(f"session {intervention_id} vanished during the benchmark")
        statements.append(counter.count)
        candidates.append(len(ranking.candidates))
        excluded.append(len(ranking.excluded))
        session.rollback()
    return RankingResult(len(timings), percentile(timings, 50), percentile(timings, 95), max(timings),
                         tuple(statements), statistics.fmean(candidates), statistics.fmean(excluded))
