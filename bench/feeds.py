"""A 10,000-event iCal feed: building it cold and warm, `icalendar` alone on the same events, the route's 304.

The national demo has about 2,400 sessions in the feed's window (90 days back, 400 ahead, confirmed
or done); `generate_feed_sessions` tops the administrator's national feed up to `FEED_EVENTS` with
confirmed sessions on weekdays of the window, spread over the départements and forces in proportion
to the trainers who serve them, each with its accepted trainers (bulk INSERTs, same seed, same data).
It runs after the ranking and planning benchmarks, whose month it would otherwise crowd.

Then, in one run and one process:

- cold build: `calendar_entry` emptied, `scope_rows` + `build_feed` + commit, as the route does;
- warm build: the same call again, every VEVENT served from `calendar_entry` (median of a few);
- `icalendar` alone: the same `session_event` objects, already built in memory, in one `Calendar`
  with the same head and time zones, and only `Calendar.to_ical()` timed: what serializing the
  events costs without any cache;
- the real route `/calendrier/flux/<token>.ics` through the test client, each request in its own
  application context (its own database session, as a web request): a full 200 with the cache warm,
  and 304s answered to `If-None-Match`; then, outside the route, what a 304 spends on the rows
  query (and on the bare SELECT under it) and on the ETag;
- the same for the largest départemental feed, for reference.

The feed is parsed back with `icalendar` and must hold exactly the expected VEVENTs, and the route
must serve the same bytes as the direct build: a benchmark measuring garbage is worthless.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day

from flask import Flask
from icalendar import Calendar
from sqlalchemy import ColumnElement, delete, func, insert, select, true
from sqlalchemy.engine import Engine
from sqlalchemy.exc import CompileError
from sqlalchemy.orm import Session

from app.calendars.routes import calendar_salt
from app.domain import feeds
from app.domain.calendar import COORDINATION, add_timezones, new_calendar, session_event
from app.domain.clock import clock
from app.domain.demo_year import AUDIENCES_BY_KIND, COMMON_TOPICS, DAY_PART_WEIGHTS, DAY_PARTS, PAIR_SHARE, allocate
from app.domain.policies import SESSIONS
from app.domain.timezones import to_utc
from app.invitations import organizer_for, session_url
from app.models import (
    Assignment,
    AssignmentStatus,
    CalendarEntry,
    Departement,
    Establishment,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    RequestStatus,
    RequestWindow,
    Role,
    Trainer,
    User,
)
from app.models.interventions import request_audience, request_topic
from app.models.trainers import trainer_departement
from bench.ranking import StatementCounter, percentile

FEED_EVENTS = 10_000
WARM_RUNS = 5
BASELINE_RUNS = 1  # seconds each, an order of magnitude above the warm build: one run tells
BREAKDOWN_RUNS = 10
FULL_REQUESTS = 5
CONDITIONAL_REQUESTS = 50
CONDITIONAL_P95_TARGET_MS = 50.0
# The names the route gives these feeds (app/calendars/routes.py, `_rows_and_name`).
NATIONAL_NAME = "Relais — toutes les interventions"
COORDINATION_NAME = "Relais — coordination "


@dataclass(frozen=True)
class FeedData:
    events: int  # in the national feed once topped up
    from_demo: int
    generated_sessions: int
    generated_requests: int
    seconds: float


@dataclass(frozen=True)
class Build:
    body: bytes
    built: int  # VEVENTs serialized (not served from calendar_entry)
    seconds: float
    statements: int


@dataclass(frozen=True)
class Route:
    """The real route, `GET /calendrier/flux/<token>.ics`, for one feed."""

    full_ms: tuple[float, ...]  # 200s with the cache warm
    identical: bool  # every 200 served the bytes of the direct build
    conditional_ms: tuple[float, ...]  # 304s answered to If-None-Match
    conditional_statements: tuple[int, ...]


@dataclass(frozen=True)
class Breakdown:
    """Where a 304 of the national feed goes, outside the route (medians)."""

    rows_ms: float  # `scope_rows`: the query, through SQLAlchemy, into FeedRows
    driver_ms: float | None  # the same SELECT fetched through the bare DB-API driver (None: not measurable)
    etag_ms: float  # `feed_etag` over the rows


@dataclass(frozen=True)
class FeedResult:
    data: FeedData
    events: int
    feed_bytes: int
    parsed_events: int
    cold: Build
    warm_runs: tuple[Build, ...]
    baseline_runs: tuple[float, ...]  # seconds of Calendar.to_ical()
    baseline_identical: bool  # icalendar's own bytes equal the spliced feed's
    route: Route
    breakdown: Breakdown
    local_label: str
    local_events: int
    local_cold: Build
    local_warm_runs: tuple[Build, ...]
    local_route: Route

    @property
    def warm(self) -> float:
        return statistics.median(build.seconds for build in self.warm_runs)

    @property
    def baseline(self) -> float:
        return statistics.median(self.baseline_runs)


# -- data ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draft:
    """What a generated request's rows need beyond the request itself."""

    topics: list[str]
    audiences: list[str]
    begins: time_of_day  # local wall-clock time of every session
    days: list[date]  # one session a day, local dates
    starts: list[datetime]  # UTC
    teams: list[list[int]]  # trainer ids, per session
    confirmed: datetime
    sequence: int


def _window_days(now: datetime) -> list[date]:
    """Weekdays strictly inside the feed's window, so that any time of the day falls in it."""
    first = (now - feeds.PAST_WINDOW).date() + timedelta(days=1)
    last = (now + feeds.FUTURE_WINDOW).date() - timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)
            if (first + timedelta(days=n)).weekday() < 5]


def generate_feed_sessions(session: Session, *, events: int, seed: int, now: datetime) -> FeedData:
    """Confirmed sessions (with their accepted trainers) until the national feed holds `events`; the caller commits."""
    started = time.perf_counter()
    rng = random.Random(seed)
    from_demo = len(feeds.scope_rows(session, true(), now))
    missing = max(events - from_demo, 0)

    places: dict[tuple[str, Force], list] = defaultdict(list)  # rows: id, département, force, kind, zone
    for row in session.execute(
            select(Establishment.id, Establishment.departement_code, Establishment.force, Establishment.kind,
                   Departement.timezone)
            .join(Departement, Departement.code == Establishment.departement_code)
            .where(Establishment.force.is_not(None)).order_by(Establishment.id)):
        places[(row.departement_code, row.force)].append(row)
    pools: dict[tuple[str, Force], list[int]] = defaultdict(list)
    for code, force, trainer_id in session.execute(
            select(trainer_departement.c.departement_code, Trainer.force, Trainer.id)
            .join(Trainer, Trainer.id == trainer_departement.c.trainer_id)
            .where(Trainer.active.is_(True)).order_by(trainer_departement.c.departement_code, Trainer.force,
                                                       Trainer.id)):
        pools[(code, force)].append(trainer_id)
    weights = {key: len(pool) for key, pool in sorted(pools.items()) if places.get(key)}
    requesters = dict(session.execute(select(User.establishment_id, func.min(User.id))
                                      .where(User.establishment_id.is_not(None))
                                      .group_by(User.establishment_id)).all())
    admin_id = session.scalar(select(func.min(User.id)).where(User.role == Role.ADMIN))
    days = _window_days(now)

    requests: list[dict] = []
    details: list[_Draft] = []
    for key, share in allocate(missing, weights).items():
        pool, remaining = pools[key], share
        while remaining > 0:
            place = rng.choice(places[key])
            groups = min(rng.choice((1, 1, 2, 2, 3)), remaining)
            remaining -= groups
            first = rng.randrange(len(days) - groups)
            begins, _ends = DAY_PARTS[rng.choices(range(len(DAY_PARTS)), DAY_PART_WEIGHTS)[0]]
            duration = rng.choice((60, 60, 90) if place.kind.is_school else (90, 120))
            # A group a day, the same time each day; the request was confirmed well before its first session.
            local_days = days[first:first + groups]
            starts = [to_utc(day, begins, place.timezone) for day in local_days]
            pair = rng.random() < PAIR_SHARE and len(pool) > 1
            teams = [rng.sample(pool, 2) if pair else [rng.choice(pool)] for _ in range(groups)]
            created = min(now, starts[0]) - timedelta(days=rng.randint(10, 90), minutes=rng.randint(0, 600))
            confirmed = created + timedelta(days=rng.randint(2, 6), minutes=rng.randint(0, 600))
            requests.append(dict(
                establishment_id=place.id, created_by_id=requesters.get(place.id, admin_id),
                status=RequestStatus.CONFIRMED, departement_code=place.departement_code, force=place.force,
                group_count=groups, people_per_group=rng.choice((24, 26, 28, 30)) if place.kind.is_school
                else rng.choice((15, 40, 80)),
                duration_minutes=duration, room="Salle polyvalente", contact_name="Contact banc d'essai",
                contact_phone="01 23 45 67 89", wants_two_trainers=pair, created_at=created,
                submitted_at=created + timedelta(hours=1), accepted_at=created + timedelta(days=1),
                updated_at=confirmed))
            details.append(_Draft(rng.sample(COMMON_TOPICS, rng.choice((1, 2, 2))),
                                  list(rng.choice(AUDIENCES_BY_KIND[place.kind])), begins, local_days, starts, teams,
                                  confirmed, rng.choice((0, 0, 0, 1, 2))))

    if not requests:
        return FeedData(from_demo, from_demo, 0, 0, time.perf_counter() - started)
    request_ids = list(session.scalars(
        insert(InterventionRequest).returning(InterventionRequest.id, sort_by_parameter_order=True), requests))
    windows, topic_rows, audience_rows, interventions, teams = [], [], [], [], []
    for request_id, request, draft in zip(request_ids, requests, details, strict=True):
        duration = timedelta(minutes=request["duration_minutes"])
        first_day, confirmed = draft.days[0], draft.confirmed
        windows.append(dict(request_id=request_id, start_date=first_day, end_date=draft.days[-1],
                            start_time=draft.begins, end_time=(datetime.combine(first_day, draft.begins)
                                                               + duration).time()))
        topic_rows += [dict(request_id=request_id, topic_code=code) for code in draft.topics]
        audience_rows += [dict(request_id=request_id, audience_code=code) for code in draft.audiences]
        for number, (starts_at, team) in enumerate(zip(draft.starts, draft.teams, strict=True), start=1):
            interventions.append(dict(
                request_id=request_id, group_label=f"Groupe {number}", status=InterventionStatus.CONFIRMED,
                departement_code=request["departement_code"], force=request["force"], starts_at=starts_at,
                ends_at=starts_at + duration, trainers_needed=len(team), accepted_count=len(team),
                confirmed_at=confirmed, ical_uid=f"bench-feed-{request_id}-{number}@relais",
                ical_sequence=draft.sequence, created_at=request["accepted_at"], updated_at=confirmed))
            teams.append((team, request["accepted_at"], confirmed))
    session.execute(insert(RequestWindow), windows)
    session.execute(insert(request_topic), topic_rows)
    session.execute(insert(request_audience), audience_rows)
    intervention_ids = list(session.scalars(
        insert(Intervention).returning(Intervention.id, sort_by_parameter_order=True), interventions))
    session.execute(insert(Assignment), [
        dict(intervention_id=intervention_id, trainer_id=trainer_id, status=AssignmentStatus.ACCEPTED,
             offered_at=offered, answered_at=confirmed, accepted_at=confirmed)
        for intervention_id, (team, offered, confirmed) in zip(intervention_ids, teams, strict=True)
        for trainer_id in team])
    session.flush()
    return FeedData(from_demo + len(interventions), from_demo, len(interventions), len(requests),
                    time.perf_counter() - started)


# -- measures -----------------------------------------------------------------------------------------


def _build(session: Session, engine: Engine, condition: ColumnElement[bool], name: str, now: datetime) -> Build:
    """What the route does for a full answer: the rows, the feed, a commit when entries were (re)built."""
    with StatementCounter(engine) as counter:
        started = time.perf_counter()
        rows = feeds.scope_rows(session, condition, now)
        body, built = feeds.build_feed(session, rows, name=name, salt=calendar_salt(), url_for=session_url,
                                       organizer_for=organizer_for)
        if built:
            session.commit()
        seconds = time.perf_counter() - started
    session.rollback()  # the next build starts from an empty session, as a web request does
    return Build(body, built, seconds, counter.count)


def _cold_and_warm(session: Session, engine: Engine, condition: ColumnElement[bool], name: str, now: datetime,
                   events: int) -> tuple[Build, tuple[Build, ...]]:
    session.execute(delete(CalendarEntry))
    session.commit()
    cold = _build(session, engine, condition, name, now)
    warm = tuple(_build(session, engine, condition, name, now) for _ in range(WARM_RUNS))
    if cold.built != events or any(build.built for build in warm):
        raise RuntimeError(f"{name}: {cold.built} VEVENTs built cold (expected {events}), "
                           f"{[build.built for build in warm]} warm (expected none)")
    if any(build.body != cold.body for build in warm):
        raise RuntimeError(f"{name}: the warm feed differs from the cold one")
    return cold, warm


def count_vevents(body: bytes) -> int:
    """The feed read back by `icalendar` (in a worker process: 10,000 events take a while to parse)."""
    return len(Calendar.from_ical(body).walk("VEVENT"))


def _icalendar_alone(session: Session, now: datetime, body: bytes, log: Callable[[str], None]
                     ) -> tuple[tuple[float, ...], bool, int]:
    """`Calendar.to_ical()` of the same events, built beforehand as `session_event` objects in memory.

    The feed is parsed back in a worker process meanwhile (nothing is timed until it is done).
    """
    with ProcessPoolExecutor(max_workers=1) as pool:
        parsing = pool.submit(count_vevents, body)
        rows = feeds.scope_rows(session, true(), now)
        loaded = feeds._load(session, [row.intervention_id for row in rows])
        calendar = new_calendar(name=NATIONAL_NAME, refresh=feeds.REFRESH)
        add_timezones(calendar, *feeds._zones_and_years(session, rows))
        for row in rows:
            intervention = loaded[row.intervention_id]
            calendar.add_component(session_event(intervention, variant=COORDINATION,
                                                 url=session_url(intervention, COORDINATION),
                                                 organizer=organizer_for(intervention), stamp=row.updated_at))
        session.rollback()
        log("feeds: parsing the feed back…")
        parsed = parsing.result()
    runs, output = [], b""
    for _ in range(BASELINE_RUNS):
        started = time.perf_counter()
        output = calendar.to_ical()
        runs.append(time.perf_counter() - started)
    return tuple(runs), output == body, parsed


def _route(app: Flask, session: Session, engine: Engine, owner: User, body: bytes) -> Route:
    """The real route through the test client; each request in an application context of its own."""
    secret = app.config["SECRET_KEY"]
    feed = feeds.feed_of(session, secret, user=owner)
    url = f"/calendrier/flux/{feeds.feed_token(secret, feed.nonce)}.ics"
    session.commit()
    client = app.test_client()

    def get(**headers: str):
        with app.app_context():
            return client.get(url, headers=headers)

    first = get()
    if first.status_code != 200 or first.get_data() != body:
        raise RuntimeError(f"the route answered {first.status_code} with other bytes than the direct build")
    full_ms, identical = [], True
    for _ in range(FULL_REQUESTS):
        started = time.perf_counter()
        response = get()
        full_ms.append((time.perf_counter() - started) * 1000)
        identical = identical and response.status_code == 200 and response.get_data() == body
    etag = first.headers["ETag"]
    conditional_ms, statements = [], []
    for _ in range(CONDITIONAL_REQUESTS):
        with StatementCounter(engine) as counter:
            started = time.perf_counter()
            response = get(**{"If-None-Match": etag})
            conditional_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 304 or response.get_data():
            raise RuntimeError(f"If-None-Match {etag} answered {response.status_code}, not an empty 304")
        statements.append(counter.count)
    return Route(tuple(full_ms), identical, tuple(conditional_ms), tuple(statements))


def _median_ms(action: Callable[[], object], runs: int = BREAKDOWN_RUNS) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def _breakdown(session: Session, now: datetime) -> Breakdown:
    """The parts of a 304 of the national feed: the rows query, the bare SELECT under it, the ETag."""
    rows_ms, rows = _median_ms(lambda: feeds.scope_rows(session, true(), now))
    etag_ms, _ = _median_ms(lambda: feeds.feed_etag(rows, "salt"))
    query = feeds._window(select(Intervention.id, Intervention.updated_at, Intervention.ical_sequence)
                          .where(true()), now).order_by(Intervention.id)
    driver_ms = None
    try:
        sql = str(query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    except CompileError:  # a dialect that cannot render the dates inline: not measured
        sql = None
    if sql is not None:
        connection = session.connection().connection.driver_connection

        def fetch() -> list:
            cursor = connection.cursor()
            cursor.execute(sql)
            return cursor.fetchall()

        driver_ms, fetched = _median_ms(fetch)
        if len(fetched) != len(rows):
            raise RuntimeError(f"the bare SELECT found {len(fetched)} rows, scope_rows {len(rows)}")
    session.rollback()
    return Breakdown(rows_ms, driver_ms, etag_ms)


def _largest_coordination(session: Session, now: datetime) -> tuple[User, str, ColumnElement[bool]]:
    """The coordinator whose feed is the largest (ties: the first one), for a départemental reference."""
    best: tuple[int, int, User] | None = None
    for user in session.scalars(select(User).where(User.role == Role.COORDINATOR, User.active.is_(True))
                                .order_by(User.id)):
        condition = SESSIONS.rows(user)
        count = session.scalar(feeds._window(select(func.count()).select_from(Intervention).where(condition), now))
        if best is None or count > best[0]:
            best = (count, user.id, user)
    if best is None:
        raise RuntimeError("the demo has no coordinator")
    user = best[2]
    label = ", ".join(f"{scope.departement_code} ({scope.force.value if scope.force else 'both forces'})"
                      for scope in user.scopes)
    return user, label, SESSIONS.rows(user)


def bench_feeds(app: Flask, session: Session, engine: Engine, *, now: datetime, seed: int,
                log: Callable[[str], None]) -> FeedResult:
    """Tops the national feed up to FEED_EVENTS sessions, then measures; the clock is frozen at `now`."""
    clock.freeze(now)  # the route's window of dates and its ETag follow the application clock
    try:
        with app.test_request_context():  # session_url builds absolute URLs with url_for
            data = generate_feed_sessions(session, events=FEED_EVENTS, seed=seed, now=now)
            session.commit()
            log(f"feeds: {data.generated_sessions:,} confirmed sessions added in {data.seconds:.1f} s; "
                "départemental feed…")
            coordinator, local_label, local_condition = _largest_coordination(session, now)
            local_name = COORDINATION_NAME + ", ".join(s.departement_code for s in coordinator.scopes)
            local_events = len(feeds.scope_rows(session, local_condition, now))
            session.rollback()
            local_cold, local_warm = _cold_and_warm(session, engine, local_condition, local_name, now, local_events)
            local_route = _route(app, session, engine, coordinator, local_cold.body)

            log(f"feeds: national feed of {data.events:,} events, cold and warm…")
            cold, warm = _cold_and_warm(session, engine, true(), NATIONAL_NAME, now, data.events)
            log("feeds: icalendar alone on the same events…")
            baseline_runs, baseline_identical, parsed = _icalendar_alone(session, now, cold.body, log)
            if parsed != data.events:
                raise RuntimeError(f"the national feed parses to {parsed} VEVENTs, not {data.events}")
            log("feeds: the route, 200 and 304…")
            admin = session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
            route = _route(app, session, engine, admin, cold.body)
            breakdown = _breakdown(session, now)
    finally:
        clock.unfreeze()
    return FeedResult(data, data.events, len(cold.body), parsed, cold, warm, baseline_runs, baseline_identical,
                      route, breakdown, local_label, local_events, local_cold, local_warm, local_route)


def p95(values: tuple[float, ...]) -> float:
    return percentile(list(values), 95)
