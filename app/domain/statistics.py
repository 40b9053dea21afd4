"""The figures the programme is judged on, from SQL aggregates only (no session loaded into Python).

Every table is computed for a scope (a WHERE condition on sessions and one on requests) and a period
(the school year by default, 1 September to 31 August). Sessions count in the month of their start,
in UTC (a session's local day differs only for sessions around midnight, which do not happen).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, case, cast, func, literal, select
from sqlalchemy.orm import Session

from app.domain.vocabulary import ESTABLISHMENT_KINDS, audience_label, force_label, topic_label
from app.models import (
    Audience,
    Departement,
    Establishment,
    Feedback,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    Topic,
    Trainer,
)
from app.models.interventions import Assignment, AssignmentStatus, request_audience, request_topic

PLANNED = (InterventionStatus.OFFERED, InterventionStatus.CONFIRMED, InterventionStatus.DONE,
           InterventionStatus.NOT_HELD)
# Labels are taken in the language of the moment (the page's; French outside a request).
KIND_LABELS = {str(kind): label for kind, label in ESTABLISHMENT_KINDS.items()}
WORKLOAD_BUCKETS = ((0, 0, "0"), (1, 2, _l("1 à 2")), (3, 5, _l("3 à 5")), (6, 10, _l("6 à 10")),
                    (11, 10**6, _l("11 et plus")))


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start, time(0), tzinfo=UTC),
                datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=UTC))


def school_year(today: date) -> Period:
    """1 September to 31 August, the year the programme is counted in."""
    first = today.year if today.month >= 9 else today.year - 1
    return Period(date(first, 9, 1), date(first + 1, 8, 31))


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    chart: str | None = None  # "bar" or "line": the first numeric column drawn


@dataclass
class Dashboard:
    period: Period
    summary: dict[str, float | int | None]
    tables: list[Table]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def _month(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _in_period(period: Period):
    low, high = period.bounds
    return (Intervention.starts_at >= low) & (Intervention.starts_at < high)


def _given_by_request_facets(session: Session, scope, period: Period, language: str) -> dict[str, list[list]]:
    """Sessions given and people reached per topic, audience and kind of establishment of their request. One
    statement: the given sessions are summed per request once, then spread over the request's topics and
    audiences and looked up in its establishment."""
    per_request = (select(Intervention.request_id.label("request_id"), func.count(Intervention.id).label("given"),
                          func.coalesce(func.sum(Intervention.people_reached), 0).label("people"))
                   .where(scope, _in_period(period), Intervention.status == InterventionStatus.DONE)
                   .group_by(Intervention.request_id).cte("given_per_request"))
    given, people = func.sum(per_request.c.given), func.sum(per_request.c.people)
    by_topic = (select(literal("topic").label("facet"), request_topic.c.topic_code.label("code"), given, people)
                .join(request_topic, request_topic.c.request_id == per_request.c.request_id)
                .group_by(request_topic.c.topic_code))
    by_audience = (select(literal("audience"), request_audience.c.audience_code, given, people)
                   .join(request_audience, request_audience.c.request_id == per_request.c.request_id)
                   .group_by(request_audience.c.audience_code))
    kind = cast(Establishment.kind, String)
    by_kind = (select(literal("kind"), kind, given, people)
               .join(InterventionRequest, InterventionRequest.id == per_request.c.request_id)
               .join(Establishment, Establishment.id == InterventionRequest.establishment_id)
               .group_by(kind))
    counts = session.execute(by_topic.union_all(by_audience, by_kind)).all()
    labels = {("topic", topic.code): topic_label(topic) for topic in session.scalars(select(Topic))}
    labels |= {("audience", audience.code): audience_label(audience) for audience in session.scalars(select(Audience))}
    labels |= {("kind", code): str(label) for code, label in KIND_LABELS.items()}
    tables: dict[str, list[list]] = {"topic": [], "audience": [], "kind": []}
    for facet, code, count, reached in counts:
        tables[facet].append([labels.get((facet, code), code), int(count), int(reached)])
    return {facet: sorted(rows, key=lambda r: (-r[1], r[0])) for facet, rows in tables.items()}


def _median_delay_days(session: Session, scope, period: Period) -> float | None:
    """Median days from a request's submission to its sessions' confirmation: the middle one or two delays,
    numbered by a window function (one statement, the same on SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        delay = func.extract("epoch", Intervention.confirmed_at - InterventionRequest.submitted_at) / 86400.0
    else:
        delay = func.julianday(Intervention.confirmed_at) - func.julianday(InterventionRequest.submitted_at)
    delays = (select(delay.label("delay"))
              .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
              .where(scope, _in_period(period), Intervention.confirmed_at.is_not(None),
                     InterventionRequest.submitted_at.is_not(None))
              .subquery())  # computed once, then numbered in order
    ranked = select(delays.c.delay, func.row_number().over(order_by=delays.c.delay).label("rank"),
                    func.count().over().label("total")).subquery()
    value = session.scalar(select(func.avg(ranked.c.delay))
                           .where(ranked.c["rank"].in_(((ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2))))
    return None if value is None else round(float(value), 1)


def build_dashboard(session: Session, *, session_scope, request_scope, trainer_scope, period: Period,
                    language: str = "fr") -> Dashboard:
    low, high = period.bounds
    # One pass over the period's sessions, grouped by every facet of their own the tables need (a few thousand
    # groups at most); the tables below add these groups up instead of each scanning the sessions again.
    month = _month(session, Intervention.starts_at)
    facets = session.execute(
        select(month, Intervention.status, Intervention.departement_code, Intervention.force,
               func.count(Intervention.id), func.coalesce(func.sum(Intervention.people_reached), 0))
        .where(session_scope, _in_period(period))
        .group_by(month, Intervention.status, Intervention.departement_code, Intervention.force)).all()
    status_counts: Counter = Counter()
    by_month = {m: [m, 0, 0, 0, 0] for m in _months(period)}
    given_by: dict[str, Counter] = {"departement": Counter(), "force": Counter()}
    people_by: dict[str, Counter] = {"departement": Counter(), "force": Counter()}
    for value, status, departement_code, force, count, people in facets:
        status_counts[status] += count
        row = by_month.setdefault(value, [value, 0, 0, 0, 0])
        if status in PLANNED:
            row[1] += count
        if status is InterventionStatus.CANCELLED:
            row[3] += count
        if status is InterventionStatus.DONE:
            row[2] += count
            row[4] += int(people)
            for facet, key in (("departement", departement_code), ("force", force)):
                given_by[facet][key] += count
                people_by[facet][key] += int(people)

    submitted = (request_scope, InterventionRequest.submitted_at >= low, InterventionRequest.submitted_at < high)
    requests = session.scalar(select(func.count(InterventionRequest.id)).where(*submitted))
    served = session.scalar(
        select(func.count(func.distinct(Intervention.request_id)))
        .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .where(*submitted, Intervention.status.in_((InterventionStatus.CONFIRMED, InterventionStatus.DONE))))
    feedback = session.scalar(
        select(func.avg(Feedback.satisfaction)).join(Intervention, Intervention.id == Feedback.intervention_id)
        .where(session_scope, _in_period(period)))
    summary = {
        "requests": requests,
        "planned": sum(status_counts[s] for s in PLANNED),
        "given": status_counts[InterventionStatus.DONE],
        "not_held": status_counts[InterventionStatus.NOT_HELD],
        "cancelled": status_counts[InterventionStatus.CANCELLED],
        "people": sum(people_by["force"].values()),
        "served_share": round(100 * served / requests, 1) if requests else None,
        "median_delay_days": _median_delay_days(session, session_scope, period),
        "feedback": round(float(feedback), 2) if feedback is not None else None,
    }

    def given_rows(facet: str, label) -> list[list]:
        return sorted(([label(key), n, people_by[facet][key]] for key, n in given_by[facet].items()),
                      key=lambda r: (-r[1], r[0]))

    by_request = _given_by_request_facets(session, session_scope, period, language)
    tables: list[Table] = [
        Table("mois", "Par mois", ["Mois", "Programmées", "Réalisées", "Annulées", "Personnes touchées"],
              [by_month[m] for m in sorted(by_month)], chart="line"),
        Table("themes", "Par thème demandé", ["Thème", "Interventions réalisées", "Personnes touchées"],
              by_request["topic"], chart="bar"),
        Table("publics", "Par public", ["Public", "Interventions réalisées", "Personnes touchées"],
              by_request["audience"], chart="bar"),
        Table("etablissements", "Par type d'établissement",
              ["Type d'établissement", "Interventions réalisées", "Personnes touchées"],
              by_request["kind"], chart="bar"),
    ]
    names = dict(session.execute(select(Departement.code, Departement.name)
                                 .where(Departement.code.in_(list(given_by["departement"])))).all())
    tables.append(Table("departements", "Par département", ["Département", "Interventions réalisées",
                                                             "Personnes touchées"],
                        given_rows("departement", names.__getitem__), chart="bar"))
    tables.append(Table("forces", "Par force", ["Force", "Interventions réalisées", "Personnes touchées"],
                        given_rows("force", lambda force: force_label(force, "—")),
                        chart="bar"))

    # From the scope's given sessions to their trainers: the acceptance is counted, not filtered on, or SQLite
    # (no statistics) would walk every accepted assignment of the country by the status index.
    given_sessions = select(Intervention.id).where(session_scope, _in_period(period),
                                                   Intervention.status == InterventionStatus.DONE)
    per_trainer = (select(Assignment.trainer_id.label("trainer_id"),
                          func.count(case((Assignment.status == AssignmentStatus.ACCEPTED, 1))).label("given"))
                   .where(Assignment.intervention_id.in_(given_sessions))
                   .group_by(Assignment.trainer_id).subquery())
    given = func.coalesce(per_trainer.c.given, 0)
    bucket = case(*[((given >= low_) & (given <= high_), literal(index))
                    for index, (low_, high_, _) in enumerate(WORKLOAD_BUCKETS)], else_=literal(0))
    counts = dict(session.execute(
        select(cast(bucket, Integer), func.count(Trainer.id)).select_from(Trainer)
        .outerjoin(per_trainer, per_trainer.c.trainer_id == Trainer.id)
        .where(trainer_scope, Trainer.active).group_by(cast(bucket, Integer))).all())
    tables.append(Table("charge", "Charge des formateurs (interventions réalisées sur la période)",
                        ["Interventions par formateur", "Formateurs"],
                        [[str(label), counts.get(index, 0)] for index, (_, _, label) in enumerate(WORKLOAD_BUCKETS)],
                        chart="bar"))
    return Dashboard(period, summary, tables)


def _months(period: Period) -> list[str]:
    months, day = [], period.start.replace(day=1)
    while day <= period.end:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months

