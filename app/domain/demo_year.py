"""A school year of sessions on top of the national demo: about 50,000, 1 September to 31 August.

`flask demo-data --scale national` and the benchmark add it (the dashboard, the feeds and the pages then
show a country's year). `generate_year` tops the school year of `now` up to `YEAR_SESSIONS` sessions with a
start, spread over the départements and forces in proportion to the trainers who serve them, as the
programme runs:

- the requests before `now` (each place's share of its open days gone, or `past_share`; seven in ten for
  the benchmark): sessions DONE, each trainer's report held with the people
  present (a few NOT_HELD, reported as such), a third of them with the establishment's feedback; the
  sessions of the last three days still CONFIRMED, their reports due;
- the rest CONFIRMED in the coming months, denser in the next weeks than in June;
- one request in twenty-five cancelled, its sessions CANCELLED;
- every request submitted, accepted and confirmed before its first session (`submitted_at`,
  `accepted_at`, `confirmed_at`), with its topics and audiences; every staffed session with its
  accepted trainers (two for about one request in ten).

Sessions fall on the days a session can be held at the place (no public holiday; no school holiday
at a school), one a day per request. Same seed, same data; bulk INSERTs (seconds, not the minutes the
unit of work would take). The pieces shared with the benchmark's month and feed (places, open days, the
share of each département and force) live here too.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import perf_counter

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.domain.holidays import check_day
from app.domain.statistics import Period, school_year
from app.domain.timezones import to_utc
from app.models import (
    Assignment,
    AssignmentStatus,
    Departement,
    Establishment,
    EstablishmentKind,
    Feedback,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    RequestStatus,
    RequestWindow,
    Role,
    SessionReport,
    Trainer,
    User,
)
from app.models.interventions import report_topic, request_audience, request_topic
from app.models.trainers import trainer_departement

COMMON_TOPICS = ("cannabis", "alcool", "tabac-vapotage", "protoxyde-azote", "loi-sanctions")
AUDIENCES_BY_KIND: dict[EstablishmentKind, tuple[tuple[str, ...], ...]] = {
    EstablishmentKind.COLLEGE: (("6e",), ("5e",), ("4e",), ("3e",), ("4e", "3e")),
    EstablishmentKind.LYCEE: (("seconde",), ("premiere",), ("terminale",)),
    EstablishmentKind.LYCEE_PRO: (("cap-bac-pro",),),
    EstablishmentKind.HIGHER_EDUCATION: (("etudiants",),),
    EstablishmentKind.COMPANY: (("salaries",),),
    EstablishmentKind.ADMINISTRATION: (("personnels",),),
    EstablishmentKind.ASSOCIATION: (("parents",), ("apprentis",)),
    EstablishmentKind.OTHER: (("parents",),),
}
# (start, end) local times of the window; weights below.
DAY_PARTS = ((time(8, 0), time(12, 0)), (time(13, 30), time(17, 0)), (time(8, 30), time(17, 0)))
DAY_PART_WEIGHTS = (55, 35, 10)
GROUP_COUNTS, GROUP_COUNT_WEIGHTS = (1, 2, 3), (55, 35, 10)
PAIR_SHARE = 0.10


@dataclass(frozen=True)
class Place:
    establishment_id: int
    departement_code: str
    force: Force
    kind: EstablishmentKind
    holiday_zone: str | None


def allocate(total: int, weights: dict[tuple[str, Force], int]) -> dict[tuple[str, Force], int]:
    """Largest-remainder split of `total` in proportion to the weights (deterministic ties)."""
    weight_sum = sum(weights.values())
    if not weight_sum:
        return {}
    exact = {key: total * weight / weight_sum for key, weight in weights.items()}
    shares = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(weights, key=lambda key: (-(exact[key] - shares[key]), key))
    for key in by_remainder[: total - sum(shares.values())]:
        shares[key] += 1
    return shares


class OpenDays:
    """The weekdays of the period on which a session can be held at a kind of place (cached)."""

    def __init__(self, first_day: date, last_day: date) -> None:
        self.days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
        self._cache: dict[tuple[str, str | None, bool], list[date]] = {}

    def of(self, place: Place) -> list[date]:
        key = (place.departement_code, place.holiday_zone, place.kind.is_school)
        if key not in self._cache:
            self._cache[key] = [day for day in self.days if day.weekday() < 5
                                and not check_day(*key[:2], day, key[2]).is_blocked]
        return self._cache[key]


YEAR_SESSIONS = 50_000
CANCELLED_SHARE = 0.04  # of the requests
NOT_HELD_SHARE = 0.03  # of the past sessions
FEEDBACK_SHARE = 0.35  # of the sessions given
REPORTS_DUE_DAYS = 3  # sessions that ended less than this before `now` still wait for their reports
# A session not held: its listed reason (app.domain.reports.NOT_HELD_REASONS) and the trainer's words.
NOT_HELD_REASONS = (("event", "Établissement fermé (intempéries)."),
                    ("audience_absent", "Classe absente (sortie scolaire)."))
RETURNING_CHUNK = 2_000
CANCEL_REASONS = ("Sortie scolaire programmée sur la même période.", "Fermeture exceptionnelle de l'établissement.")


@dataclass(frozen=True)
class YearData:
    period: Period
    sessions: int  # starting in the period once topped up
    from_before: int  # already there (demo and earlier benchmarks)
    generated_sessions: int
    generated_requests: int
    done: int  # generated sessions by state
    not_held: int
    confirmed: int
    cancelled: int
    reports: int
    feedback: int
    seconds: float


@dataclass(frozen=True)
class _Draft:
    place: Place
    timezone: str
    topics: list[str]
    audiences: list[str]
    part: int
    days: list[date]  # one session a day, local dates
    teams: list[list[int]]  # trainer ids per session
    cancelled: bool


def insert_returning_ids(session: Session, model: type, rows: list[dict]) -> list[int]:
    """Bulk INSERT … RETURNING id, in parameter order; in chunks, since SQLAlchemy splices the returned
    batches together in quadratic time (minutes for 50,000 rows in one statement)."""
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for start in range(0, len(rows), RETURNING_CHUNK):
        ids += session.scalars(statement, rows[start:start + RETURNING_CHUNK])
    return ids


def sessions_in_period(session: Session, period: Period) -> int:
    low, high = period.bounds
    return session.scalar(select(func.count(Intervention.id))
                          .where(Intervention.starts_at >= low, Intervention.starts_at < high)) or 0


def generate_year(session: Session, *, now: datetime, seed: int, sessions: int = YEAR_SESSIONS,
                  past_share: float | None = None) -> YearData:
    """Adds requests until the school year of `now` has `sessions` sessions with a start; the caller commits.

    `past_share`: the share of requests placed before `now`; by default each place's share of its open days
    already gone (a year generated in December has its autumn given and the rest to come)."""
    started = perf_counter()
    rng = random.Random(seed + 1)  # not the month's or the feed's sequence
    period = school_year(now.date())
    from_before = sessions_in_period(session, period)
    missing = max(sessions - from_before, 0)

    places: dict[tuple[str, Force], list[Place]] = defaultdict(list)
    timezones: dict[str, str] = {}
    for row in session.execute(
            select(Establishment.id, Establishment.departement_code, Establishment.force, Establishment.kind,
                   Departement.holiday_zone, Departement.timezone)
            .join(Departement, Departement.code == Establishment.departement_code)
            .where(Establishment.force.is_not(None)).order_by(Establishment.id)):
        places[(row.departement_code, row.force)].append(Place(*row[:5]))
        timezones[row.departement_code] = row.timezone
    pools: dict[tuple[str, Force], list[int]] = defaultdict(list)
    for code, force, trainer_id in session.execute(
            select(trainer_departement.c.departement_code, Trainer.force, Trainer.id)
            .join(Trainer, Trainer.id == trainer_departement.c.trainer_id)
            .where(Trainer.active.is_(True)).order_by(trainer_departement.c.departement_code, Trainer.force,
                                                       Trainer.id)):
        pools[(code, force)].append(trainer_id)
    trainer_users = dict(session.execute(select(Trainer.id, Trainer.user_id)).all())
    weights = {key: len(pool) for key, pool in sorted(pools.items()) if places.get(key)}
    requesters = dict(session.execute(select(User.establishment_id, func.min(User.id))
                                      .where(User.establishment_id.is_not(None))
                                      .group_by(User.establishment_id)).all())
    admin_id = session.scalar(select(func.min(User.id)).where(User.role == Role.ADMIN))
    open_days = OpenDays(period.start, period.end)
    today = now.date()

    drafts: list[_Draft] = []
    for key, share in allocate(missing, weights).items():
        pool = pools[key]
        candidates = [place for place in places[key] if open_days.of(place)]
        remaining = share if candidates else 0
        while remaining > 0:
            place = rng.choice(candidates)
            days = open_days.of(place)
            past, after = bisect_left(days, today), bisect_right(days, today)  # days before, first day after
            future = len(days) - after
            groups = min(rng.choices(GROUP_COUNTS, GROUP_COUNT_WEIGHTS)[0], remaining)
            before = past_share if past_share is not None else past / len(days)
            if past and (not future or rng.random() < before):
                first = rng.randrange(max(past - groups + 1, 1))
            else:
                # The coming weeks are fuller than June: a start drawn towards the near future.
                first = after + int(future * rng.random() ** 2)
            first = min(first, len(days) - groups) if len(days) >= groups else 0
            chosen = days[first:first + groups]
            remaining -= len(chosen)
            pair = rng.random() < PAIR_SHARE and len(pool) > 1
            drafts.append(_Draft(
                place=place, timezone=timezones[place.departement_code],
                topics=rng.sample(COMMON_TOPICS, rng.choice((1, 2, 2))),
                audiences=list(rng.choice(AUDIENCES_BY_KIND[place.kind])),
                part=rng.choices(range(len(DAY_PARTS)), DAY_PART_WEIGHTS)[0], days=chosen,
                teams=[rng.sample(pool, 2) if pair else [rng.choice(pool)] for _ in chosen],
                cancelled=rng.random() < CANCELLED_SHARE))

    requests: list[dict] = []
    for draft in drafts:
        place = draft.place
        first_start = to_utc(draft.days[0], DAY_PARTS[draft.part][0], draft.timezone)
        created = first_start - timedelta(days=rng.randint(20, 90), minutes=rng.randint(0, 600))
        accepted = created + timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 600))
        last_end = to_utc(draft.days[-1], DAY_PARTS[draft.part][1], draft.timezone)
        if draft.cancelled:
            status = RequestStatus.CANCELLED
        elif last_end < now - timedelta(days=REPORTS_DUE_DAYS):
            status = RequestStatus.DONE
        else:
            status = RequestStatus.CONFIRMED
        requests.append(dict(
            establishment_id=place.establishment_id, created_by_id=requesters.get(place.establishment_id, admin_id),
            status=status, departement_code=place.departement_code, force=place.force,
            group_count=len(draft.days),
            people_per_group=rng.choice((24, 26, 28, 30)) if place.kind.is_school else rng.choice((15, 40, 80)),
            duration_minutes=rng.choice((60, 60, 90) if place.kind.is_school else (90, 120)),
            room="Salle polyvalente", contact_name="Contact de démonstration", contact_phone="01 23 45 67 89",
            wants_two_trainers=len(draft.teams[0]) == 2, created_at=created,
            submitted_at=created + timedelta(hours=1), accepted_at=accepted,
            cancel_reason=rng.choice(CANCEL_REASONS) if draft.cancelled else None,
            updated_at=min(accepted + timedelta(days=3), now)))

    if not requests:
        return YearData(period, from_before, from_before, 0, 0, 0, 0, 0, 0, 0, 0, perf_counter() - started)
    request_ids = insert_returning_ids(session, InterventionRequest, requests)

    windows, topic_rows, audience_rows, interventions, details = [], [], [], [], []
    for request_id, request, draft in zip(request_ids, requests, drafts, strict=True):
        begins, ends = DAY_PARTS[draft.part]
        duration = timedelta(minutes=request["duration_minutes"])
        windows.append(dict(request_id=request_id, start_date=draft.days[0], end_date=draft.days[-1],
                            start_time=begins, end_time=ends))
        topic_rows += [dict(request_id=request_id, topic_code=code) for code in draft.topics]
        audience_rows += [dict(request_id=request_id, audience_code=code) for code in draft.audiences]
        confirmed = request["accepted_at"] + timedelta(days=rng.randint(1, 5), minutes=rng.randint(0, 600))
        for number, (day, team) in enumerate(zip(draft.days, draft.teams, strict=True), start=1):
            starts_at = to_utc(day, begins, draft.timezone)
            ends_at = starts_at + duration
            confirmed_at = min(confirmed, starts_at - timedelta(days=2))
            if draft.cancelled:
                status = InterventionStatus.CANCELLED
            elif ends_at > now - timedelta(days=REPORTS_DUE_DAYS):
                status = InterventionStatus.CONFIRMED
            elif rng.random() < NOT_HELD_SHARE:
                status = InterventionStatus.NOT_HELD
            else:
                status = InterventionStatus.DONE
            staffed = status is not InterventionStatus.CANCELLED
            interventions.append(dict(
                request_id=request_id, group_label=f"Groupe {number}", status=status,
                departement_code=request["departement_code"], force=request["force"], starts_at=starts_at,
                ends_at=ends_at, trainers_needed=len(team), accepted_count=len(team) if staffed else 0,
                confirmed_at=confirmed_at, cancel_reason=request["cancel_reason"],
                ical_uid=f"demo-year-{request_id}-{number}@relais", created_at=request["accepted_at"],
                updated_at=min(ends_at + timedelta(days=3), now) if staffed else request["updated_at"]))
            details.append((team if staffed else [], request, draft, confirmed_at))
    session.execute(insert(RequestWindow), windows)
    session.execute(insert(request_topic), topic_rows)
    session.execute(insert(request_audience), audience_rows)
    intervention_ids = insert_returning_ids(session, Intervention, interventions)

    assignments, reports, report_topics_of, feedback, people_reached = [], [], [], [], []
    for intervention_id, row, (team, request, draft, confirmed_at) in zip(
            intervention_ids, interventions, details, strict=True):
        assignments += [dict(intervention_id=intervention_id, trainer_id=trainer_id,
                             status=AssignmentStatus.ACCEPTED, offered_at=request["accepted_at"],
                             answered_at=confirmed_at, accepted_at=confirmed_at) for trainer_id in team]
        if row["status"] not in (InterventionStatus.DONE, InterventionStatus.NOT_HELD):
            continue
        held = row["status"] is InterventionStatus.DONE
        present = max(1, request["people_per_group"] - rng.randint(0, 4)) if held else None
        if held:
            people_reached.append(dict(id=intervention_id, people_reached=present))
        staff = rng.choice((0, 1, 2)) if held and draft.place.kind.is_school else 0
        filed = min(row["ends_at"] + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 8)), now)
        code, reason = (None, None) if held else rng.choice(NOT_HELD_REASONS)
        for trainer_id in team:
            reports.append(dict(
                intervention_id=intervention_id, trainer_id=trainer_id, author_id=trainer_users[trainer_id],
                held=held, not_held_code=code, not_held_reason=reason, people_present=present,
                pupils=present - staff if staff else None, staff=staff or None, created_at=filed, updated_at=filed,
                editable_until=filed + timedelta(days=30)))
            report_topics_of.append(draft.topics if held else [])
        author = request["created_by_id"]
        if held and author != admin_id and rng.random() < FEEDBACK_SHARE:
            given = min(row["ends_at"] + timedelta(days=rng.randint(1, 10)), now)
            feedback.append(dict(intervention_id=intervention_id, author_id=author,
                                 satisfaction=rng.choice((2, 3, 4, 4, 4, 5, 5, 5)), created_at=given,
                                 updated_at=given))
    session.execute(insert(Assignment), assignments)
    session.execute(update(Intervention), people_reached)  # as the reports would have set it
    report_ids = insert_returning_ids(session, SessionReport, reports)
    session.execute(insert(report_topic), [dict(report_id=report_id, topic_code=code)
                                           for report_id, codes in zip(report_ids, report_topics_of, strict=True)
                                           for code in codes])
    if feedback:
        session.execute(insert(Feedback), feedback)
    session.flush()
    states = defaultdict(int)
    for row in interventions:
        states[row["status"]] += 1
    return YearData(period=period, sessions=from_before + len(interventions), from_before=from_before,
                    generated_sessions=len(interventions), generated_requests=len(requests),
                    done=states[InterventionStatus.DONE], not_held=states[InterventionStatus.NOT_HELD],
                    confirmed=states[InterventionStatus.CONFIRMED], cancelled=states[InterventionStatus.CANCELLED],
                    reports=len(reports), feedback=len(feedback), seconds=perf_counter() - started)
