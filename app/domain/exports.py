"""Schedules exported by coordinators (.ics, CSV and Excel), from the web page and the command line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.domain.calendar import Organizer, add_timezones, assemble_feed, new_calendar, session_event
from app.domain.imports.tables import csv_file, xlsx_file
from app.domain.timezones import to_local, to_utc
from app.models import (
    Assignment,
    AssignmentStatus,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    Trainer,
)

STATUS_LABELS = {
    InterventionStatus.TO_SCHEDULE: "à programmer", InterventionStatus.OFFERED: "formateur sollicité",
    InterventionStatus.CONFIRMED: "confirmée", InterventionStatus.DONE: "réalisée",
    InterventionStatus.NOT_HELD: "non tenue", InterventionStatus.CANCELLED: "annulée",
}
# The columns of the spreadsheets (CSV and Excel alike).
CSV_COLUMNS = ("date", "début", "fin", "fuseau", "département", "force", "établissement", "commune", "groupe",
               "personnes", "public", "thèmes", "état", "formateurs", "matricules", "contact", "téléphone",
               "demande")


@dataclass(frozen=True)
class ExportFilters:
    date_from: date | None = None
    date_to: date | None = None
    departement_code: str | None = None
    force: Force | None = None
    trainer_matricule: str | None = None
    establishment_id: int | None = None
    statuses: tuple[str, ...] = (InterventionStatus.CONFIRMED.value, InterventionStatus.DONE.value)


def sessions_for_export(session: Session, filters: ExportFilters, scope_condition) -> list[Intervention]:
    """Sessions with a time, in the scope, matching the filters, in date order, with what is shown."""
    query = select(Intervention).where(scope_condition, Intervention.starts_at.is_not(None),
                                       Intervention.status.in_([InterventionStatus(s) for s in filters.statuses]))
    # Dates are days of the place; a day's bounds in Paris are close enough for the bounds of the query,
    # which are then checked in each session's own zone.
    if filters.date_from:
        query = query.where(Intervention.starts_at >= to_utc(filters.date_from, time(0), "Pacific/Kiritimati"))
    if filters.date_to:
        query = query.where(Intervention.starts_at < to_utc(filters.date_to + timedelta(days=1), time(0),
                                                            "Pacific/Pago_Pago"))
    if filters.departement_code:
        query = query.where(Intervention.departement_code == filters.departement_code)
    if filters.force:
        query = query.where(Intervention.force == filters.force)
    if filters.establishment_id:
        query = query.where(Intervention.request.has(InterventionRequest.establishment_id == filters.establishment_id))
    if filters.trainer_matricule:
        query = query.where(Intervention.assignments.any(and_accepted_by(filters.trainer_matricule)))
    request_of = selectinload(Intervention.request)
    rows = session.scalars(query.options(
        request_of.selectinload(InterventionRequest.establishment),
        request_of.selectinload(InterventionRequest.topics),
        request_of.selectinload(InterventionRequest.audiences),
        request_of.selectinload(InterventionRequest.created_by),
        selectinload(Intervention.assignments).selectinload(Assignment.trainer).selectinload(Trainer.user))
        .order_by(Intervention.starts_at, Intervention.id)).all()
    return [i for i in rows if _local_day_within(i, filters)]


def and_accepted_by(matricule: str):
    return (Assignment.status == AssignmentStatus.ACCEPTED) & Assignment.trainer.has(Trainer.matricule == matricule)


def _local_day_within(intervention: Intervention, filters: ExportFilters) -> bool:
    day = to_local(intervention.starts_at, intervention.request.establishment.timezone).date()
    return ((filters.date_from is None or day >= filters.date_from)
            and (filters.date_to is None or day <= filters.date_to))


def export_ics(interventions: Sequence[Intervention], *, name: str, url_for: Callable[[Intervention, str], str],
               organizer_for: Callable[[Intervention], Organizer], now: datetime, variant: str) -> bytes:
    head = new_calendar(name=name)
    add_timezones(head, {i.request.establishment.timezone for i in interventions},
                  {i.starts_at.year for i in interventions})
    events = (session_event(i, variant=variant, url=url_for(i, variant), organizer=organizer_for(i),
                            stamp=now).to_ical().decode("utf-8") for i in interventions)
    return assemble_feed(head, events)


def export_csv(interventions: Sequence[Intervention]) -> bytes:
    """One line per session, local times, as French Excel opens it (BOM, semicolons): `tables.csv_file`."""
    return csv_file([CSV_COLUMNS, *(_csv_cells(_row(intervention)) for intervention in interventions)])


def export_xlsx(interventions: Sequence[Intervention]) -> bytes:
    """The same columns as an Excel workbook: the day a date, start and end times of the place, the group's size
    and the request's number numbers, every text a text (`tables.xlsx_file`)."""
    return xlsx_file([CSV_COLUMNS, *(_row(intervention) for intervention in interventions)], sheet="Interventions")


def _csv_cells(row: list) -> list:
    # For spreadsheets, not for people (app.formatting writes « 9 h 30 »): a French spreadsheet reads « 11/01/2027 »
    # as a date and « 09:30 » as a time, and sorts them.
    day, start, end, *rest = row
    return [day.strftime("%d/%m/%Y"), start.strftime("%H:%M"), end.strftime("%H:%M"), *rest]


def _row(intervention: Intervention) -> list:
    """The session's cells, typed: its day (a date), start and end (times), all of the place's zone."""
    request = intervention.request
    establishment = request.establishment
    zone = establishment.timezone
    start, end = to_local(intervention.starts_at, zone), to_local(intervention.ends_at, zone)
    accepted = [a.trainer for a in intervention.assignments if a.status is AssignmentStatus.ACCEPTED]
    return [
        start.date(), start.time(), end.time(), zone,
        intervention.departement_code, intervention.force.value if intervention.force else "",
        establishment.name, establishment.commune_name, f"{intervention.group_label}", request.people_per_group,
        ", ".join(a.label_fr for a in request.audiences), ", ".join(t.label_fr for t in request.topics),
        STATUS_LABELS[intervention.status], ", ".join(t.full_name for t in accepted),
        ", ".join(t.matricule for t in accepted), request.contact_name, request.contact_phone, request.id,
    ]
