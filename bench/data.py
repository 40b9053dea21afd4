"""A month of accepted requests on top of the national demo: the sessions the planner has to place.

The demo already leaves some requests "in planning" and some sessions confirmed in the month; this
module tops the month up to the number of sessions asked for, spread over the départements and forces
in proportion to the trainers who serve them, so that every coordinator has a realistic share.
Windows are short (two to five school days, a morning, an afternoon or a whole day), about one
request in ten wants two trainers: the instance is tight, and not every session can be served.

Same seed, same data. Rows go in with bulk INSERTs (the ORM unit of work would take minutes here).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.domain.demo_year import (
    AUDIENCES_BY_KIND,
    COMMON_TOPICS,
    DAY_PART_WEIGHTS,
    DAY_PARTS,
    GROUP_COUNT_WEIGHTS,
    GROUP_COUNTS,
    PAIR_SHARE,
    OpenDays,
    Place,
    allocate,
)
from app.models import (
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

# The month being planned, and the moment the coordinators plan it (a month ahead, as they do).
MONTH_FIRST_DAY = date(2027, 3, 1)
MONTH_LAST_DAY = date(2027, 3, 31)
NOW = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
# The demo data set is generated "today": its future requests and leave fall in February to April.
DEMO_TODAY = NOW.date()

WINDOW_SCHOOL_DAYS = (2, 3, 3, 4, 5)
# Of the school year's requests, those before NOW: seven in ten, as the figures of earlier runs were taken.
YEAR_PAST_SHARE = 0.72


@dataclass(frozen=True)
class MonthData:
    sessions_in_month: int  # what the planner will see: the demo's own plus the generated ones
    from_demo: int
    generated_sessions: int
    generated_requests: int
    pair_sessions: int


def sessions_to_schedule_in(session: Session, first_day: date, last_day: date) -> list[int]:
    """Sessions waiting for a trainer whose request has a window touching the period (as the planner loads them)."""
    return list(session.scalars(
        select(Intervention.id).distinct()
        .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .join(RequestWindow, RequestWindow.request_id == InterventionRequest.id)
        .where(Intervention.status == InterventionStatus.TO_SCHEDULE, Intervention.force.is_not(None),
               InterventionRequest.status.in_((RequestStatus.IN_PLANNING, RequestStatus.SCHEDULED)),
               RequestWindow.start_date <= last_day, RequestWindow.end_date >= first_day)
        .order_by(Intervention.id)))


def generate_month(session: Session, *, sessions: int, seed: int, first_day: date = MONTH_FIRST_DAY,
                   last_day: date = MONTH_LAST_DAY, now: datetime = NOW) -> MonthData:
    """Adds accepted requests until the period has `sessions` sessions to schedule; the caller commits."""
    rng = random.Random(seed)
    from_demo = len(sessions_to_schedule_in(session, first_day, last_day))
    missing = max(sessions - from_demo, 0)

    places: dict[tuple[str, Force], list[Place]] = defaultdict(list)
    for row in session.execute(
            select(Establishment.id, Establishment.departement_code, Establishment.force, Establishment.kind,
                   Departement.holiday_zone)
            .join(Departement, Departement.code == Establishment.departement_code)
            .where(Establishment.force.is_not(None)).order_by(Establishment.id)):
        places[(row.departement_code, row.force)].append(Place(*row))
    trainer_counts = {(code, force): count for code, force, count in session.execute(
        select(trainer_departement.c.departement_code, Trainer.force, func.count())
        .join(Trainer, Trainer.id == trainer_departement.c.trainer_id)
        .where(Trainer.active.is_(True))
        .group_by(trainer_departement.c.departement_code, Trainer.force))}
    weights = {key: count for key, count in sorted(trainer_counts.items()) if places.get(key)}
    # Requests are filed by a member of the establishment, or by the administrator for the others.
    requesters = dict(session.execute(select(User.establishment_id, func.min(User.id))
                                      .where(User.establishment_id.is_not(None))
                                      .group_by(User.establishment_id)).all())
    admin_id = session.scalar(select(func.min(User.id)).where(User.role == Role.ADMIN))
    open_days = OpenDays(first_day, last_day)

    requests: list[dict] = []
    details: list[tuple[int, list[str], list[str], date, date, int, int]] = []
    for key, share in allocate(missing, weights).items():
        candidates = [place for place in places[key] if open_days.of(place)]
        remaining = share if candidates else 0
        while remaining > 0:
            place = rng.choice(candidates)
            days = open_days.of(place)
            groups = min(rng.choices(GROUP_COUNTS, GROUP_COUNT_WEIGHTS)[0], remaining)
            remaining -= groups
            first = rng.randrange(len(days))
            last = min(first + rng.choice(WINDOW_SCHOOL_DAYS) - 1, len(days) - 1)
            part = rng.choices(range(len(DAY_PARTS)), DAY_PART_WEIGHTS)[0]
            topics = rng.sample(COMMON_TOPICS, rng.choice((1, 2, 2)))
            audiences = list(rng.choice(AUDIENCES_BY_KIND[place.kind]))
            duration = rng.choice((60, 60, 90) if place.kind.is_school else (90, 120))
            created = now - timedelta(days=rng.randint(8, 70), minutes=rng.randint(0, 600))
            # Acceptance order is the arrival order of the greedy baseline: mixed across départements.
            accepted = min(created + timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 600)), now)
            pair = rng.random() < PAIR_SHARE
            requests.append(dict(
                establishment_id=place.establishment_id,
                created_by_id=requesters.get(place.establishment_id, admin_id),
                status=RequestStatus.IN_PLANNING, departement_code=place.departement_code, force=place.force,
                group_count=groups, people_per_group=rng.choice((24, 26, 28, 30)) if place.kind.is_school
                else rng.choice((15, 40, 80)),
                duration_minutes=duration, room="Salle polyvalente", contact_name="Contact banc d'essai",
                contact_phone="01 23 45 67 89", wants_two_trainers=pair, created_at=created,
                submitted_at=created + timedelta(hours=1), accepted_at=accepted, updated_at=accepted))
            details.append((groups, topics, audiences, days[first], days[last], part, 2 if pair else 1))

    if not requests:
        return MonthData(from_demo, from_demo, 0, 0, 0)
    request_ids = list(session.scalars(
        insert(InterventionRequest).returning(InterventionRequest.id, sort_by_parameter_order=True), requests))
    windows, topic_rows, audience_rows, interventions = [], [], [], []
    for request_id, request, (groups, topics, audiences, start, end, part, needed) in zip(
            request_ids, requests, details, strict=True):
        starts_at, ends_at = DAY_PARTS[part]
        windows.append(dict(request_id=request_id, start_date=start, end_date=end, start_time=starts_at,
                            end_time=ends_at))
        topic_rows += [dict(request_id=request_id, topic_code=code) for code in topics]
        audience_rows += [dict(request_id=request_id, audience_code=code) for code in audiences]
        interventions += [dict(
            request_id=request_id, group_label=f"Groupe {number}", status=InterventionStatus.TO_SCHEDULE,
            departement_code=request["departement_code"], force=request["force"], trainers_needed=needed,
            # A stable UID keeps the data set identical from one run to the next.
            ical_uid=f"bench-{request_id}-{number}@relais", created_at=request["accepted_at"],
            updated_at=request["accepted_at"]) for number in range(1, groups + 1)]
    session.execute(insert(RequestWindow), windows)
    session.execute(insert(request_topic), topic_rows)
    session.execute(insert(request_audience), audience_rows)
    session.execute(insert(Intervention), interventions)
    session.flush()
    return MonthData(sessions_in_month=from_demo + len(interventions), from_demo=from_demo,
                     generated_sessions=len(interventions), generated_requests=len(requests),
                     pair_sessions=sum(1 for row in interventions if row["trainers_needed"] == 2))
