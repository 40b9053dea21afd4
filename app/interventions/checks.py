"""Glue between the request form and the domain rules (reference data, the place, local today)."""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import select

from app.domain.clock import utcnow
from app.domain.request_rules import (
    AudienceInfo,
    Findings,
    Place,
    RequestInput,
    WindowInput,
    check_request,
    topic_rules,
)
from app.domain.timezones import to_local
from app.extensions import db
from app.models import Audience, Establishment, InterventionRequest, Topic


def _label(item) -> str:
    return item.label_en if str(get_locale() or "fr") == "en" else item.label_fr


def reference_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    audiences = db.session.scalars(select(Audience).where(Audience.active).order_by(Audience.position)).all()
    topics = db.session.scalars(select(Topic).where(Topic.active).order_by(Topic.position)).all()
    return [(a.code, _label(a)) for a in audiences], [(t.code, _label(t)) for t in topics]


def local_today(establishment: Establishment) -> date:
    return to_local(utcnow(), establishment.timezone).date()


def check(data: RequestInput, establishment: Establishment) -> Findings:
    audiences = [AudienceInfo(a.code, _label(a), a.category)
                 for a in db.session.scalars(select(Audience).order_by(Audience.position))]
    topics = topic_rules(db.session.scalars(select(Topic).order_by(Topic.position)))
    place = Place(establishment.departement_code, establishment.holiday_zone, establishment.kind.is_school)
    return check_request(data, place, topics, audiences, local_today(establishment),
                         current_app.config["RELAIS_MIN_NOTICE_DAYS"])


def input_from_form(form) -> RequestInput:
    return RequestInput(
        audience_codes=form.audiences.data or [], topic_codes=form.topics.data or [],
        group_count=form.group_count.data, people_per_group=form.people_per_group.data,
        duration_minutes=form.duration_minutes.data,
        windows=[WindowInput(entry.form.start_date.data, entry.form.end_date.data, entry.form.start_time.data,
                             entry.form.end_time.data) for entry in form.windows])


def input_from_request(request: InterventionRequest) -> RequestInput:
    return RequestInput(
        audience_codes=[a.code for a in request.audiences], topic_codes=[t.code for t in request.topics],
        group_count=request.group_count, people_per_group=request.people_per_group,
        duration_minutes=request.duration_minutes,
        windows=[WindowInput(w.start_date, w.end_date, w.start_time, w.end_time) for w in request.windows])


def apply_errors(form, findings: Findings) -> None:
    """Puts each domain error next to its field (windows-0-start_date → the first window's date)."""
    for name, messages in findings.errors.items():
        target = form
        for part in name.split("-"):
            target = target[int(part)] if part.isdigit() else target[part]
        target.errors = [*target.errors, *messages]
