"""The figures the programme is judged on, from SQL aggregates only (no session loaded into Python).

Every table is computed for a scope (a WHERE condition on sessions and one on requests) and a period
(the school year by default, 1 September to 31 August). Sessions count in the month of their start,
in UTC (a session's local day differs only for sessions around midnight, which do not happen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, case, cast, func, literal, select
from sqlalchemy.orm import Session

from app.models import (
    Audience,
    Departement,
    Establishment,
    Feedback,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    SessionReport,
    Topic,
    Trainer,
)
from app.models.interventions import Assignment, AssignmentStatus, request_audience, request_topic

PLANNED = (InterventionStatus.OFFERED, InterventionStatus.CONFIRMED, InterventionStatus.DONE,
           InterventionStatus.NOT_HELD)
KIND_LABELS = {"college": "Collège", "lycee": "Lycée", "lycee_pro": "Lycée professionnel",
               "higher_education": "Enseignement supérieur", "company": "Entreprise", "association": "Association",
               "administration": "Administration", "other": "Autre"}
FORCE_LABELS = {"police": "Police nationale", "gendarmerie": "Gendarmerie nationale"}
WORKLOAD_BUCKETS = ((0, 0, "0"), (1, 2, "1 à 2"), (3, 5, "3 à 5"), (6, 10, "6 à 10"), (11, 10**6, "11 et plus"))


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


def _people():
    """People reached per session: the largest count among its trainers' reports saying it was held."""
    return (select(SessionReport.intervention_id.label("intervention_id"),
                   func.max(SessionReport.people_present).label("people"))
            .where(SessionReport.held).group_by(SessionReport.intervention_id).subquery())


def _month(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _in_period(period: Period):
    low, high = period.bounds
    return (Intervention.starts_at >= low) & (Intervention.starts_at < high)


def _given_by(session: Session, scope, period: Period, group_column, *joins, label_column=None):
    """Sessions given and people reached, grouped by one column."""
    people = _people()
    label = label_column if label_column is not None else group_column
    query = (select(label, func.count(func.distinct(Intervention.id)), func.coalesce(func.sum(people.c.people), 0))
             .select_from(Intervention)
             .join(InterventionRequest, InterventionRequest.id == Intervention.request_id))
    for target, condition in joins:
        query = query.join(target, condition)
    query = (query.outerjoin(people, people.c.intervention_id == Intervention.id)
             .where(scope, _in_period(period), Intervention.status == InterventionStatus.DONE)
             .group_by(group_column, *([label_column] if label_column is not None else [])))
    return session.execute(query).all()


def _median_delay_days(session: Session, scope, period: Period) -> float | None:
    """Median days from a request's submission to its sessions' confirmation."""
    base = (select(Intervention.confirmed_at, InterventionRequest.submitted_at)
            .join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
            .where(scope, _in_period(period), Intervention.confirmed_at.is_not(None),
                   InterventionRequest.submitted_at.is_not(None)))
    if session.get_bind().dialect.name == "postgresql":
        delay = func.extract("epoch", Intervention.confirmed_at - InterventionRequest.submitted_at) / 86400.0
        value = session.scalar(base.with_only_columns(func.percentile_cont(0.5).within_group(delay)))
        return None if value is None else round(float(value), 1)
    delay = func.julianday(Intervention.confirmed_at) - func.julianday(InterventionRequest.submitted_at)
    count = session.scalar(base.with_only_columns(func.count()))
    if not count:
        return None
    ordered = base.with_only_columns(delay).order_by(delay)
    middle = session.scalars(ordered.limit(2 - count % 2).offset((count - 1) // 2)).all()
    return round(sum(middle) / len(middle), 1)


def build_dashboard(session: Session, *, session_scope, request_scope, trainer_scope, period: Period,
                    language: str = "fr") -> Dashboard:
    low, high = period.bounds
    people = _people()
    status_counts = dict(session.execute(
        select(Intervention.status, func.count(Intervention.id))
        .where(session_scope, _in_period(period)).group_by(Intervention.status)).all())
    reached = session.scalar(
        select(func.coalesce(func.sum(people.c.people), 0)).select_from(Intervention)
        .join(people, people.c.intervention_id == Intervention.id)
        .where(session_scope, _in_period(period), Intervention.status == InterventionStatus.DONE))
    submitted = (select(InterventionRequest.id).where(request_scope, InterventionRequest.submitted_at >= low,
                                                      InterventionRequest.submitted_at < high))
    requests = session.scalar(select(func.count()).select_from(submitted.subquery()))
    served = session.scalar(
        select(func.count(func.distinct(Intervention.request_id)))
        .where(Intervention.request_id.in_(submitted),
               Intervention.status.in_((InterventionStatus.CONFIRMED, InterventionStatus.DONE))))
    feedback = session.scalar(
        select(func.avg(Feedback.satisfaction)).join(Intervention, Intervention.id == Feedback.intervention_id)
        .where(session_scope, _in_period(period)))
    summary = {
        "requests": requests,
        "planned": sum(status_counts.get(s, 0) for s in PLANNED),
        "given": status_counts.get(InterventionStatus.DONE, 0),
        "not_held": status_counts.get(InterventionStatus.NOT_HELD, 0),
        "cancelled": status_counts.get(InterventionStatus.CANCELLED, 0),
        "people": int(reached or 0),
        "served_share": round(100 * served / requests, 1) if requests else None,
        "median_delay_days": _median_delay_days(session, session_scope, period),
        "feedback": round(float(feedback), 2) if feedback is not None else None,
    }

    tables: list[Table] = []
    month = _month(session, Intervention.starts_at)
    by_month = {m: [m, 0, 0, 0, 0] for m in _months(period)}
    for value, planned, given, cancelled in session.execute(
            select(month, func.count(Intervention.id),
                   func.sum(case((Intervention.status == InterventionStatus.DONE, 1), else_=0)),
                   func.sum(case((Intervention.status == InterventionStatus.CANCELLED, 1), else_=0)))
            .where(session_scope, _in_period(period), Intervention.status.in_((*PLANNED, InterventionStatus.CANCELLED)))
            .group_by(month)):
        by_month.setdefault(value, [value, 0, 0, 0, 0])[1:4] = [planned - cancelled, given, cancelled]
    for value, _given, reached_month in _given_by(session, session_scope, period, month):
        by_month.setdefault(value, [value, 0, 0, 0, 0])[4] = int(reached_month)
    tables.append(Table("mois", "Par mois", ["Mois", "Programmées", "Réalisées", "Annulées", "Personnes touchées"],
                        [by_month[m] for m in sorted(by_month)], chart="line"))

    label_topic = getattr(Topic, f"label_{language}", Topic.label_fr)
    rows = _given_by(session, session_scope, period, Topic.code,
                     (request_topic, request_topic.c.request_id == InterventionRequest.id),
                     (Topic, Topic.code == request_topic.c.topic_code), label_column=label_topic)
    tables.append(Table("themes", "Par thème demandé", ["Thème", "Interventions réalisées", "Personnes touchées"],
                        sorted(([label, n, int(p)] for label, n, p in rows), key=lambda r: -r[1]), chart="bar"))

    label_audience = getattr(Audience, f"label_{language}", Audience.label_fr)
    rows = _given_by(session, session_scope, period, Audience.code,
                     (request_audience, request_audience.c.request_id == InterventionRequest.id),
                     (Audience, Audience.code == request_audience.c.audience_code), label_column=label_audience)
    tables.append(Table("publics", "Par public", ["Public", "Interventions réalisées", "Personnes touchées"],
                        sorted(([label, n, int(p)] for label, n, p in rows), key=lambda r: -r[1]), chart="bar"))

    rows = _given_by(session, session_scope, period, Establishment.kind,
                     (Establishment, Establishment.id == InterventionRequest.establishment_id))
    tables.append(Table("etablissements", "Par type d'établissement",
                        ["Type d'établissement", "Interventions réalisées", "Personnes touchées"],
                        sorted(([KIND_LABELS.get(k.value, k.value), n, int(p)] for k, n, p in rows),
                               key=lambda r: -r[1]), chart="bar"))

    rows = _given_by(session, session_scope, period, Intervention.departement_code,
                     (Departement, Departement.code == Intervention.departement_code),
                     label_column=Departement.name)
    tables.append(Table("departements", "Par département", ["Département", "Interventions réalisées",
                                                             "Personnes touchées"],
                        sorted(([name, n, int(p)] for name, n, p in rows), key=lambda r: -r[1]), chart="bar"))

    rows = _given_by(session, session_scope, period, Intervention.force)
    tables.append(Table("forces", "Par force", ["Force", "Interventions réalisées", "Personnes touchées"],
                        sorted(([FORCE_LABELS.get(f.value if f else "", "—"), n, int(p)] for f, n, p in rows),
                               key=lambda r: -r[1]), chart="bar"))

    per_trainer = (select(Assignment.trainer_id.label("trainer_id"), func.count(Intervention.id).label("given"))
                   .join(Intervention, Intervention.id == Assignment.intervention_id)
                   .where(session_scope, _in_period(period), Assignment.status == AssignmentStatus.ACCEPTED,
                          Intervention.status == InterventionStatus.DONE)
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
                        [[label, counts.get(index, 0)] for index, (_, _, label) in enumerate(WORKLOAD_BUCKETS)],
                        chart="bar"))
    return Dashboard(period, summary, tables)


def _months(period: Period) -> list[str]:
    months, day = [], period.start.replace(day=1)
    while day <= period.end:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months

