"""`python -m bench` (or `make bench`): ranking, planning, feed, dashboard and page benchmarks on the national demo.

Prints the machine and one Markdown table to stdout (progress goes to stderr); `--write` also saves
it to bench/results/latest.md. Exits with status 1 when a measure misses its target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from flask import Flask

from app.domain.planning import TRAVEL_UNIT_PER_KM, Plan
from app.extensions import db
from bench.data import (
    DEMO_TODAY,
    MONTH_FIRST_DAY,
    MONTH_LAST_DAY,
    NOW,
    YEAR_PAST_SHARE,
    MonthData,
    generate_month,
    sessions_to_schedule_in,
)
from bench.database import Database, prepare_database, temporary_workdir
from bench.pages import POSTGRESQL_SERVER
from bench.pages import REQUESTS as PAGE_REQUESTS
from bench.ranking import bench_ranking
from bench.report import Report, Row, machine_lines

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
PLAN_SECONDS_TARGET = 2.0
PLAN_MEGABYTES_TARGET = 300
PLANNING_NOTES = [
    f"The flow's cost is travel (in 1/{TRAVEL_UNIT_PER_KM} km, times a weight above any possible workload "
    "cost, see `travel_weight`) plus workload balance "
    "(the k-th extra session of a trainer costs their load so far plus k), as in `app/domain/planning.py`. "
    "Sessions for two trainers are placed first by a heuristic, outside the flow: the proven optimum covers "
    "the single-trainer sessions on the capacity the pairs leave.",
]
FEED_NOTES = [
    "Feeds: every build goes through `feeds.scope_rows` and `feeds.build_feed` as the route does; the warm build "
    "splices the VEVENTs kept in `calendar_entry`, `icalendar` alone serializes the same events without any cache. "
    "Route timings include the test client and a fresh database session per request.",
]
_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:6.1f} s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an EMPTY database to fill (default: a fresh SQLite file in a "
                                               "temporary folder)")
    parser.add_argument("--only", choices=("ranking", "planning", "feeds", "dashboard", "pages"),
                        help="run one benchmark only")
    parser.add_argument("--sessions", type=int, default=3000, help="sessions to schedule in the month (default 3000)")
    parser.add_argument("--rankings", type=int, default=200, help="sessions ranked one by one (default 200)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the demo and of the month (default 2026)")
    parser.add_argument("--no-cache", action="store_true", help="build the national demo even if instance/"
                                                                "bench-cache/ has it")
    parser.add_argument("--postgresql-server", default=POSTGRESQL_SERVER,
                        help="pages: the PostgreSQL server where a throwaway copy of the database is measured next "
                             f"to SQLite (default {POSTGRESQL_SERVER}; '' for SQLite only)")
    parser.add_argument("--page-requests", type=int, default=PAGE_REQUESTS,
                        help=f"pages: timed requests per page and database (default {PAGE_REQUESTS})")
    parser.add_argument("--write", action="store_true", help="also write the table to bench/results/latest.md")
    return parser.parse_args(argv)


def _context(database: Database, month: MonthData, seed: int, own_url: bool) -> list[str]:
    return machine_lines(db.engine, None if own_url else "a fresh file in a temporary folder") + [
        f"Data: national demo (seed {seed}, as of {DEMO_TODAY:%d/%m/%Y}): {database.trainers:,} trainers, "
        f"{database.establishments:,} establishments; database {database.origin} in {database.seconds:.1f} s",
        f"Month planned: {MONTH_FIRST_DAY:%d/%m/%Y}–{MONTH_LAST_DAY:%d/%m/%Y}, {month.sessions_in_month:,} sessions "
        f"to schedule ({month.from_demo:,} from the demo, {month.generated_sessions:,} generated in "
        f"{month.generated_requests:,} requests, {month.pair_sessions:,} of them for two trainers); "
        f"planned as of {NOW:%d/%m/%Y %H:%M} UTC",
    ]


def ranking_rows(rankings: int, seed: int) -> list[Row]:
    ids = sessions_to_schedule_in(db.session, MONTH_FIRST_DAY, MONTH_LAST_DAY)
    log(f"ranking {rankings} sessions one by one…")
    result = bench_ranking(db.session, db.engine, ids, NOW, sample=rankings, seed=seed)
    low, high = min(result.statements), max(result.statements)
    return [
        Row("Ranking one session, p50 (end to end, `rank_intervention`)",
            f"{result.p50_ms:.0f} ms ({result.rankings} sessions; {result.mean_candidates:.1f} candidates and "
            f"{result.mean_excluded:.1f} excluded on average)"),
        Row("Ranking one session, p95", f"{result.p95_ms:.0f} ms (max {result.max_ms:.0f} ms)"),
        Row("SQL statements per ranking", f"{low}" if low == high else f"{low} to {high}",
            "fixed, whatever the pool", result.statements_are_fixed),
    ]


def planning_rows() -> list[Row]:
    from bench.planning import bench_planning  # imports SciPy, which `--only ranking` does without

    log("planning the month (loading the instance takes a while)…")
    result = bench_planning(db.session, db.engine, date_from=MONTH_FIRST_DAY, date_to=MONTH_LAST_DAY, now=NOW)
    planner, greedy, check = result.planner, result.greedy, result.check
    served_pairs, greedy_pairs = _served_pairs(planner), _served_pairs(greedy)
    runs = ", ".join(f"{seconds:.2f}" for seconds in result.plan_seconds_runs)
    return [
        Row("Planning instance (`load_planning_problem`)",
            f"{result.sessions:,} sessions ({result.pair_sessions:,} for two; {result.sessions_with_options:,} "
            f"with at least one option), {result.trainers:,} trainers, {result.options:,} options"),
        Row("Loading the instance", f"{result.load_seconds:.1f} s, {result.load_statements} SQL statements"),
        Row(f"Planning wall time (`plan_period`, median of {len(result.plan_seconds_runs)})",
            f"{result.plan_seconds:.2f} s (runs: {runs} s)", f"< {PLAN_SECONDS_TARGET:g} s",
            result.plan_seconds < PLAN_SECONDS_TARGET),
        Row("Same plan on every run", "yes" if result.plans_identical else "no: the preview and the commit may differ",
            "identical", result.plans_identical),
        Row("Planning peak memory",
            f"{result.peak_mb:.0f} MB (resident set growth {_megabytes(result.rss_growth_mb)}; Python heap peak "
            f"{result.python_peak_mb:.0f} MB)",
            f"< {PLAN_MEGABYTES_TARGET} MB", result.peak_mb < PLAN_MEGABYTES_TARGET),
        Row("Sessions served, planner", _served(planner.served_sessions, result.sessions, served_pairs),
            "≥ greedy", planner.served_sessions >= greedy.served_sessions),
        Row("Sessions served, greedy baseline (`plan_greedy`)",
            _served(greedy.served_sessions, result.sessions, greedy_pairs)
            + f"; {greedy.served_sessions - planner.served_sessions:+,} against the planner; "
              f"{result.greedy_seconds:.2f} s"),
        Row("Travel, planner", _km(planner.total_km, len(planner.assignments))),
        Row("Travel, greedy baseline", _km(greedy.total_km, len(greedy.assignments))),
        Row("Optimum proven by HiGHS (LP on the planner's single-trainer network, "
            f"{check.network_arcs:,} arcs, {check.network_nodes:,} nodes)",
            f"HiGHS: {check.lp.flow:,} sessions, cost {check.lp.cost:,} ({check.lp.seconds:.1f} s); planner: "
            f"{check.planner_flow:,} sessions, cost {check.planner_cost:,}",
            "planner = optimum", check.equal),
    ]


def feed_rows(app: Flask, seed: int) -> tuple[str, list[Row]]:
    from bench.feeds import CONDITIONAL_P95_TARGET_MS, bench_feeds, p95

    log("feeds…")
    result = bench_feeds(app, db.session, db.engine, now=NOW, seed=seed, log=log)
    data, cold, route, local, parts = result.data, result.cold, result.route, result.local_route, result.breakdown
    warm_runs = ", ".join(f"{build.seconds * 1000:.0f}" for build in result.warm_runs)
    baseline_runs = ", ".join(f"{seconds:.2f}" for seconds in result.baseline_runs)
    local_warm = statistics.median(build.seconds for build in result.local_warm_runs)
    driver = f"{parts.driver_ms:.0f} ms" if parts.driver_ms is not None else "not measurable on this database"
    context = (f"Feeds: the administrator's national feed holds {data.events:,} sessions confirmed in its window "
               f"({NOW:%d/%m/%Y} − 90 days to + 400 days): {data.from_demo:,} from the demo, "
               f"{data.generated_sessions:,} generated ({data.generated_requests:,} requests, "
               f"{data.seconds:.1f} s); clock frozen at {NOW:%d/%m/%Y %H:%M} UTC")
    return context, [
        Row(f"National feed (administrator, {result.events:,} sessions): size, read back by `icalendar`",
            f"{result.feed_bytes / 1e6:.1f} MB; `Calendar.from_ical` finds {result.parsed_events:,} VEVENTs",
            f"{result.events:,} VEVENTs", result.parsed_events == result.events),
        Row("National feed, cold build (empty `calendar_entry`: rows query, `build_feed`, commit)",
            f"{cold.seconds:.2f} s ({cold.built:,} VEVENTs serialized and stored, {cold.statements} SQL statements)"),
        Row(f"National feed, warm build (every VEVENT cached), median of {len(result.warm_runs)}",
            f"{result.warm * 1000:.0f} ms (runs: {warm_runs} ms; {_statements(result.warm_runs)} SQL statements), "
            f"{result.baseline / result.warm:.0f}× faster than `icalendar` alone",
            "< `icalendar` alone", result.warm < result.baseline),
        Row(f"`icalendar` alone: `Calendar.to_ical()` of the same {result.events:,} `session_event`s, already in "
            f"memory, {_runs(len(result.baseline_runs))}",
            f"{result.baseline:.2f} s{f' (runs: {baseline_runs} s)' if len(result.baseline_runs) > 1 else ''}; "
            "same bytes as the feed: "
            f"{'yes' if result.baseline_identical else 'no'}"),
        Row(f"National feed through the route, 200 (cache warm), median of {len(route.full_ms)}",
            f"{statistics.median(route.full_ms):.0f} ms; same bytes as the direct build: "
            f"{'yes' if route.identical else 'no'}"),
        Row("National feed through the route, 304 (`If-None-Match`), p50",
            f"{statistics.median(route.conditional_ms):.0f} ms ({len(route.conditional_ms)} requests; "
            f"{_statements_of(route.conditional_statements)} SQL statements each)"),
        Row("National feed through the route, 304, p95",
            f"{p95(route.conditional_ms):.0f} ms (max {max(route.conditional_ms):.0f} ms)",
            f"< {CONDITIONAL_P95_TARGET_MS:g} ms", p95(route.conditional_ms) < CONDITIONAL_P95_TARGET_MS),
        Row("Where a national 304 goes (medians, outside the route)",
            f"`scope_rows` {parts.rows_ms:.0f} ms (the bare SELECT through the driver: {driver}), "
            f"`feed_etag` {parts.etag_ms:.0f} ms"),
        Row(f"Départemental feed (largest coordination: {result.local_label}; {result.local_events:,} sessions)",
            f"cold {result.local_cold.seconds * 1000:.0f} ms, warm {local_warm * 1000:.0f} ms "
            f"(median of {len(result.local_warm_runs)}); route: 200 {statistics.median(local.full_ms):.0f} ms, "
            f"304 p50 {statistics.median(local.conditional_ms):.1f} ms, p95 {p95(local.conditional_ms):.1f} ms "
            f"({_statements_of(local.conditional_statements)} SQL statements)"),
    ]


def year_of_sessions(seed: int) -> str:
    """Tops the school year up to 50,000 sessions (after the feeds, which add some): the context line."""
    from app.domain.demo_year import generate_year
    from bench.dashboard import year_context

    log("a school year of sessions…")
    year = generate_year(db.session, now=NOW, seed=seed, past_share=YEAR_PAST_SHARE)
    db.session.commit()
    return year_context(year)


def dashboard_report(app: Flask) -> list[Row]:
    from bench.dashboard import bench_dashboard, dashboard_rows

    return dashboard_rows(bench_dashboard(app, db.session, db.engine, log=log))


def _runs(count: int) -> str:
    return "one run" if count == 1 else f"median of {count}"


def _statements_of(counts: tuple[int, ...]) -> str:
    low, high = min(counts), max(counts)
    return f"{low}" if low == high else f"{low} to {high}"


def _statements(builds: tuple) -> str:
    return _statements_of(tuple(build.statements for build in builds))


def _served_pairs(plan: Plan) -> int:
    staffed = Counter(assignment.intervention_id for assignment in plan.assignments)
    return sum(1 for trainers in staffed.values() if trainers > 1)


def _megabytes(value: float | None) -> str:
    return f"{value:.0f} MB" if value is not None else "not measurable here"


def _served(served: int, total: int, pairs: int) -> str:
    return f"{served:,} of {total:,} ({100 * served / total:.1f} %), {pairs:,} of them pairs"


def _km(km: float, trips: int) -> str:
    return f"{km:,.0f} km over {trips:,} trainer trips ({km / max(trips, 1):.1f} km each)"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with temporary_workdir() as folder:
        log("national demo data set…")
        app, database = prepare_database(args.database_url, Path(folder), seed=args.seed, today=DEMO_TODAY,
                                         use_cache=not args.no_cache)
        log(f"database {database.origin} in {database.seconds:.1f} s")
        with app.app_context():
            month = generate_month(db.session, sessions=args.sessions, seed=args.seed)
            db.session.commit()
            report = Report(context=_context(database, month, args.seed, bool(args.database_url)))
            if args.only in (None, "ranking"):
                report.rows += ranking_rows(args.rankings, args.seed)
            if args.only in (None, "planning"):
                report.rows += planning_rows()
                report.notes += PLANNING_NOTES
            if args.only in (None, "feeds"):  # after the month: it adds confirmed sessions, which would crowd it
                context, rows = feed_rows(app, args.seed)
                report.context.append(context)
                report.rows += rows
                report.notes += FEED_NOTES
            if args.only in (None, "dashboard", "pages"):  # after the others: a year of sessions crowds the month
                report.context.append(year_of_sessions(args.seed))
            if args.only in (None, "dashboard"):
                from bench.dashboard import DASHBOARD_NOTES

                report.rows += dashboard_report(app)
                report.notes += DASHBOARD_NOTES
            if args.only in (None, "pages"):
                from bench.pages import PAGES_NOTES, bench_pages, pages_context, pages_rows, pages_section

                db.session.remove()
                log("pages under gunicorn…")
                pages = bench_pages(app, folder=Path(folder), requests=args.page_requests,
                                    postgresql_server=args.postgresql_server or None, log=log)
                report.context += pages_context(pages)
                report.rows += pages_rows(pages)
                report.notes += PAGES_NOTES
                report.sections.append(pages_section(pages))
            db.session.remove()
            db.engine.dispose()
    table = report.markdown()
    print(table)
    if args.write:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(table, encoding="utf-8")
        log(f"written to {RESULTS}")
    log("done")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
