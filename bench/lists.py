"""Lists that grow with use (#18): the demo's trainer and requester after a few years of use.

The national demo gives formateur.pfad a handful of offers and principal.college a few requests; people who use
the app for years have far more. Before the pages are measured, `grow_lists` gives the trainer `OFFERS` offers
waiting for an answer (sessions to come, one a school day, in establishments of their départements and force) and
the requester's establishment `REQUESTS` requests of every status over the last years, so that the trainer's
home, their list of offers, the requester's home and list of requests are measured with hundreds of rows.
`list_targets` finds the keys of their deep pages (keyset, as the roster's).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.domain.demo_year import insert_returning_ids
from app.domain.policies import REQUESTS as REQUEST_POLICY
from app.domain.timezones import to_utc
from app.models import (
    Assignment,
    AssignmentStatus,
    Departement,
    Establishment,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    OutgoingMessage,
    RequestStatus,
    RequestWindow,
    Trainer,
    User,
)
from app.models.interventions import request_audience, request_topic
from app.models.trainers import trainer_departement

TRAINER = "formateur.pfad@relais.demo"
REQUESTER = "principal.college@relais.demo"
OFFERS = 200  # the issue saw a trainer's home with 198
REQUESTS = 2000  # and a requester's list of 2,380
MAX_OFFERED_REQUESTS = 20  # the offers come from that many requests at most (fewer where the trainer has fewer
# establishments: then more groups each)
# Page sizes of the lists in the app: offers.routes.PAGE_SIZE, interventions.routes.PAGE_SIZE, admin.routes.PAGE_SIZE.
OFFERS_PAGE_SIZE = 10
LIST_PAGE_SIZE = 50
# The statuses of a requester's requests over the years: most done, some cancelled or refused, a few going on.
REQUEST_STATUSES = ((RequestStatus.DONE, 70), (RequestStatus.CANCELLED, 10), (RequestStatus.REFUSED, 5),
                    (RequestStatus.SUBMITTED, 8), (RequestStatus.DRAFT, 7))


@dataclass(frozen=True)
class ListsData:
    offers: int  # the trainer's offers waiting for an answer, after growing
    requests: int  # the requester's establishment's requests, after growing


def _trainer(session: Session) -> Trainer:
    return session.scalar(select(Trainer).join(User, User.id == Trainer.user_id).where(User.email == TRAINER))


def _school_days(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def grow_lists(session: Session, now: datetime, *, offers: int = OFFERS, requests: int = REQUESTS,
               seed: int = 2026) -> ListsData:
    """Adds the offers and the requests (plain INSERTs, as `demo_year` does); the caller commits."""
    rng = random.Random(seed + 18)
    trainer = _trainer(session)
    places = session.execute(
        select(Establishment.id, Establishment.departement_code, Departement.timezone)
        .join(Departement, Departement.code == Establishment.departement_code)
        .join(trainer_departement, trainer_departement.c.departement_code == Establishment.departement_code)
        .where(trainer_departement.c.trainer_id == trainer.id, Establishment.force == trainer.force)
        .order_by(Establishment.id).limit(MAX_OFFERED_REQUESTS)).all()
    groups = [offers // len(places) + (1 if number < offers % len(places) else 0) for number in range(len(places))]
    admin_id = session.scalar(select(User.id).where(User.email == "admin@relais.demo"))
    days = iter(_school_days(now.date() + timedelta(days=2), offers))
    offered: list[dict] = []
    for place, count in zip(places, groups, strict=True):
        offered.append(dict(
            establishment_id=place.id, created_by_id=admin_id, status=RequestStatus.IN_PLANNING,
            departement_code=place.departement_code, force=trainer.force, group_count=count,
            people_per_group=25, duration_minutes=60, room="Salle polyvalente",
            contact_name="Contact de démonstration", contact_phone="01 23 45 67 89",
            created_at=now - timedelta(days=9), submitted_at=now - timedelta(days=9),
            accepted_at=now - timedelta(days=7), updated_at=now - timedelta(days=1)))
    offered_ids = insert_returning_ids(session, InterventionRequest, offered)
    sessions: list[dict] = []
    for request_id, place, count in zip(offered_ids, places, groups, strict=True):
        for number in range(1, count + 1):
            starts_at = to_utc(next(days), time(9) if number % 2 else time(14), place.timezone)
            sessions.append(dict(
                request_id=request_id, group_label=f"Groupe {number}", status=InterventionStatus.OFFERED,
                departement_code=place.departement_code, force=trainer.force, starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1), trainers_needed=1, accepted_count=0,
                ical_uid=f"bench-lists-{request_id}-{number}@relais", created_at=now - timedelta(days=7),
                updated_at=now - timedelta(days=1)))
    session_ids = insert_returning_ids(session, Intervention, sessions)
    session.execute(insert(Assignment), [dict(
        intervention_id=session_id, trainer_id=trainer.id, status=AssignmentStatus.OFFERED,
        offered_at=now - timedelta(hours=rng.randint(1, 40)), expires_at=now + timedelta(days=3))
        for session_id in session_ids])
    _add_reference_rows(session, offered_ids, rng)

    requester = session.scalar(select(User).where(User.email == REQUESTER))
    establishment = session.get(Establishment, requester.establishment_id)
    statuses = [status for status, weight in REQUEST_STATUSES for _ in range(weight)]
    made: list[dict] = []
    windows: list[dict] = []
    for number in range(requests):
        created = now - timedelta(days=3 * 365 * (requests - number) / requests, minutes=rng.randint(0, 600))
        status = rng.choice(statuses) if created < now - timedelta(days=120) else RequestStatus.SUBMITTED
        made.append(dict(
            establishment_id=establishment.id, created_by_id=requester.id, status=status,
            departement_code=establishment.departement_code, force=establishment.force,
            group_count=rng.choice((1, 2, 3, 4)), people_per_group=rng.choice((24, 26, 28, 30)),
            duration_minutes=60, room="CDI", contact_name=requester.full_name, contact_phone="01 23 45 67 89",
            created_at=created, updated_at=created + timedelta(days=1),
            submitted_at=None if status is RequestStatus.DRAFT else created + timedelta(hours=1)))
        first = created.date() + timedelta(days=rng.randint(30, 60))
        windows.append(dict(start_date=first, end_date=first + timedelta(days=rng.choice((4, 11, 25))),
                            start_time=time(8), end_time=time(12)))
    request_ids = insert_returning_ids(session, InterventionRequest, made)
    session.execute(insert(RequestWindow), [dict(request_id=request_id, **window)
                                            for request_id, window in zip(request_ids, windows, strict=True)])
    _add_reference_rows(session, request_ids, rng)
    session.flush()
    return ListsData(offers=len(session_ids), requests=len(list_ids(session)[1]))


def _add_reference_rows(session: Session, request_ids: list[int], rng: random.Random) -> None:
    session.execute(insert(request_topic), [dict(request_id=request_id, topic_code=code) for request_id in request_ids
                                            for code in rng.sample(("cannabis", "alcool", "tabac-vapotage"), 2)])
    session.execute(insert(request_audience), [dict(request_id=request_id, audience_code=rng.choice(("4e", "3e")))
                                               for request_id in request_ids])


def list_ids(session: Session) -> tuple[list[int], list[int], list[int]]:
    """In each list's order: the trainer's open offers (session date, id), the requester's requests and the outbox
    (latest first)."""
    from bench.data import NOW

    trainer = _trainer(session)
    offers = list(session.scalars(
        select(Assignment.id).join(Intervention, Intervention.id == Assignment.intervention_id)
        .where(Assignment.trainer_id == trainer.id, Assignment.status == AssignmentStatus.OFFERED,
               Assignment.expires_at > NOW,
               Intervention.status.in_((InterventionStatus.TO_SCHEDULE, InterventionStatus.OFFERED)))
        .order_by(Intervention.starts_at, Assignment.id)))
    requester = session.scalar(select(User).where(User.email == REQUESTER))
    requests = list(session.scalars(select(InterventionRequest.id).where(REQUEST_POLICY.rows(requester))
                                    .order_by(InterventionRequest.id.desc())))
    outbox = list(session.scalars(select(OutgoingMessage.id).order_by(OutgoingMessage.id.desc())))
    return offers, requests, outbox


def deep_page(ids: list[int], size: int) -> tuple[int, int]:
    """The key (`apres`) of the last full page of a list in its keyset order, and that page's number."""
    page = max(len(ids) // size, 2)
    return ids[min((page - 1) * size, len(ids)) - 1], page
