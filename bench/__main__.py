"""`python -m bench` (or `make bench`): ranking, planning, autopilot, feed, dashboard, page benchmarks, national demo.

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
PLAN_SECONDS_TARGET = 10.0
PLAN_SECONDS_AIM = 5.0
PLAN_MEGABYTES_TARGET = 300
PLANNING_NOTES = [
    "The exact planner (`app/domain/exact_planning.py`) puts single and two-trainer sessions in one CP-SAT model "
    "at their real times: the offers' collision rule (travel between places, none inside one school), weekly and "
    "monthly limits; most sessions served first, then, with that many served, travel (1/"
    f"{TRAVEL_UNIT_PER_KM} km, times a weight above any workload cost) plus workload balance (the k-th extra "
    "session of a trainer costs their load so far plus k). Its time limit is CP-SAT's deterministic time "
    "(RELAIS_PLANNING_TIME_LIMIT, default 5), so runs give the same plan whatever the machine's load. "
    "The flow planner's plans are counted with what the offers' rules would refuse taken out: half-days "
    "ignore the travel between a morning and an afternoon session.",
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
    parser.add_argument("--only", choices=("ranking", "planning", "autopilot", "feeds", "dashboard", "pages"),
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
    result = bench_planning(db.session, db.engine, date_from=MONTH_FIRST_DAY, date_to=MONTH_LAST_DAY, now=NOW,
                            log=log)
    planner, flow, half_days, greedy, highs = (result.planner, result.flow, result.flow_half_days, result.greedy,
                                               result.highs)
    report = planner.plan.report
    runs = ", ".join(f"{seconds:.2f}" for seconds in result.plan_seconds_runs)
    best_flow = max(flow.served - flow.refused, half_days.served - half_days.refused)
    return [
        Row("Planning instance (`load_planning_problem`)",
            f"{result.sessions:,} sessions ({result.pair_sessions:,} for two; {result.sessions_with_options:,} "
            f"with at least one option), {result.trainers:,} trainers, {result.options:,} options (a start an hour "
            f"and each day's last; {result.half_day_options:,} as one per half-day)"),
        Row("Loading the instance", f"{result.load_seconds:.1f} s, {result.load_statements} SQL statements"),
        Row(f"Planning wall time (`plan_period`, exact, median of {len(result.plan_seconds_runs)})",
            f"{result.plan_seconds:.2f} s (runs: {runs} s; CPU {result.plan_cpu_seconds:.1f} s; "
            f"{report.stats.get('components', 0)} independent parts in {report.stats.get('models', 0)} CP-SAT models, "
            f"{report.variables:,} booleans, {report.constraints:,} constraints)",
            f"< {PLAN_SECONDS_TARGET:g} s (aim {PLAN_SECONDS_AIM:g} s)", result.plan_seconds < PLAN_SECONDS_TARGET),
        Row("Same plan on every run", "yes" if result.plans_identical else "no: the preview and the commit may differ",
            "identical", result.plans_identical),
        Row("Planning peak memory", f"resident set growth {_megabytes(result.rss_growth_mb)}",
            f"< {PLAN_MEGABYTES_TARGET} MB", (result.rss_growth_mb or 0) < PLAN_MEGABYTES_TARGET),
        Row("Optimality (CP-SAT's own proof)", _proof(report), "proven, or gap < 0.5 %",
            report.served_gap < 0.005),
        Row("Sessions served, exact planner", _served(planner.served, result.sessions, _served_pairs(planner.plan))
            + f"; {planner.refused} the offers' rules would refuse",
            "≥ flow, none refused", planner.served >= best_flow and planner.refused == 0),
        Row("Sessions served, flow + pair heuristic (`plan_half_days`), same options",
            _served(flow.served, result.sessions, _served_pairs(flow.plan))
            + f", of which {flow.refused} refused by the offers' rules (travel between a morning and an afternoon "
              f"session); {flow.seconds:.2f} s"),
        Row("Sessions served, flow + pair heuristic, one option per half-day (the loader before)",
            _served(half_days.served, result.sessions, _served_pairs(half_days.plan))
            + f", of which {half_days.refused} refused; {half_days.seconds:.2f} s"),
        Row("Sessions served, greedy baseline (`plan_greedy`)",
            _served(greedy.served, result.sessions, _served_pairs(greedy.plan))
            + f", of which {greedy.refused} refused; {greedy.seconds:.2f} s"),
        Row("Exact planner against the flow's best, refusals taken out", f"{planner.served - best_flow:+,} sessions"),
        Row("Travel, exact planner", _km(planner.plan.total_km, len(planner.plan.assignments))),
        Row("Travel, flow (same options)", _km(flow.plan.total_km, len(flow.plan.assignments))),
        Row(f"Optimum confirmed by HiGHS (`milp` on the exact model's constraints, {highs.parts} parts)",
            f"HiGHS: {highs.served:,} sessions ({'proven' if highs.proven else 'not proven in time'}), "
            f"LP bound {highs.lp_bound:,.1f}, {highs.seconds:.0f} s; CP-SAT: {planner.served:,}",
            "= planner, LP bound ≥ planner",
            highs.proven and highs.served == planner.served and highs.lp_bound >= planner.served - 1e-6),
    ]


def _proof(report) -> str:
    if report.status == "optimal":
        return "optimal, proven (sessions served, then travel and balance)"
    if report.served_optimal:
        return (f"sessions served proven optimal ({report.served:,}); travel and balance within "
                f"{100 * report.cost_gap:.2f} % of their optimum when stopped")
    return (f"{report.served:,} sessions served, at most {report.served_bound:,} possible: gap "
            f"{100 * report.served_gap:.2f} %")


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
            if args.only in (None, "autopilot"):  # the month's sessions, before the feeds confirm some
                from bench.autopilot import autopilot_rows, bench_autopilot

                report.rows += autopilot_rows(bench_autopilot(NOW, log))
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
