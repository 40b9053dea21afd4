"""Glue between the request form and the domain (app.domain.requests): choices, plain input, errors by field."""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import select

from app.domain.request_rules import Findings, RequestInput, WindowInput
from app.domain.requests import RequestDetails
from app.extensions import db
from app.models import Audience, Topic


def language() -> str:
    return "en" if str(get_locale() or "fr") == "en" else "fr"


def min_notice_days() -> int:
    return current_app.config["RELAIS_MIN_NOTICE_DAYS"]


def reference_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    label = f"label_{language()}"
    audiences = db.session.scalars(select(Audience).where(Audience.active).order_by(Audience.position)).all()
    topics = db.session.scalars(select(Topic).where(Topic.active).order_by(Topic.position)).all()
    return [(a.code, getattr(a, label)) for a in audiences], [(t.code, getattr(t, label)) for t in topics]


def input_from_form(form) -> RequestInput:
    return RequestInput(
        audience_codes=form.audiences.data or [], topic_codes=form.topics.data or [],
        group_count=form.group_count.data, people_per_group=form.people_per_group.data,
        duration_minutes=form.duration_minutes.data,
        windows=[WindowInput(entry.form.start_date.data, entry.form.end_date.data, entry.form.start_time.data,
                             entry.form.end_time.data) for entry in form.windows])


def details_from_form(form) -> RequestDetails:
    return RequestDetails(place=form.place.data, room=form.room.data, equipment=form.equipment.data,
                          contact_name=form.contact_name.data, contact_phone=form.contact_phone.data,
                          contact_email=form.contact_email.data, notes=form.notes.data,
                          wants_two_trainers=form.wants_two_trainers.data)


def apply_errors(form, findings: Findings) -> None:
    """Puts each domain error next to its field (windows-0-start_date → the first window's date); a field the form
    found wrong already (a number that is not one) keeps the form's message alone."""
    for name, messages in findings.errors.items():
        target = form
        for part in name.split("-"):
            target = target[int(part)] if part.isdigit() else target[part]
        if not target.errors:
            target.errors = [*messages]
