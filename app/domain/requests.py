"""Saving and sending a request from plain input: the same rules for the form, an import or an API.

`save_request` checks everything (app.domain.request_rules), then creates or edits the request, its windows
and lists, records the history and, when asked, sends it to the coordination. Nothing is written when a rule
fails: `InvalidRequest` carries the messages by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import lifecycle
from app.domain.changes import Change
from app.domain.refusals import MESSAGES, Refused
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
from app.models import (
    Audience,
    Establishment,
    InterventionRequest,
    RequestStatus,
    RequestWindow,
    Topic,
    User,
)

DETAIL_FIELDS = ("place", "room", "equipment", "contact_name", "contact_phone", "contact_email", "notes")


class InvalidRequest(Refused):  # noqa: N818 (a refusal, like its base)
    """The request breaks a rule: `findings.errors` says which, field by field."""

    def __init__(self, findings: Findings):
        super().__init__("request_invalid")
        self.findings = findings


@dataclass(frozen=True)
class RequestDetails:
    """What the rules do not check: where, with whom, what the establishment wants the trainer to know."""

    place: str | None = None
    room: str | None = None
    equipment: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    notes: str | None = None
    wants_two_trainers: bool = False


@dataclass
class SavedRequest:
    request: InterventionRequest
    sent: bool
    warnings: list = field(default_factory=list)
    change: Change = field(default_factory=Change)


def local_today(establishment: Establishment, now: datetime) -> date:
    """Today where the sessions take place (overseas, not Paris's day)."""
    return to_local(now, establishment.timezone).date()


def check(session: Session, data: RequestInput, establishment: Establishment, now: datetime, min_notice_days: int,
          language: str = "fr") -> Findings:
    """Every rule of a request at this establishment; audiences are named in `language` in the messages."""
    label = "label_en" if language == "en" else "label_fr"
    audiences = [AudienceInfo(a.code, getattr(a, label), a.category)
                 for a in session.scalars(select(Audience).order_by(Audience.position))]
    topics = topic_rules(session.scalars(select(Topic).order_by(Topic.position)))
    place = Place(establishment.departement_code, establishment.holiday_zone, establishment.kind.is_school,
                  establishment.saturday_classes)
    return check_request(data, place, topics, audiences, local_today(establishment, now), min_notice_days)


def input_of(request: InterventionRequest) -> RequestInput:
    """A saved request as the rules read it."""
    return RequestInput(
        audience_codes=[a.code for a in request.audiences], topic_codes=[t.code for t in request.topics],
        group_count=request.group_count, people_per_group=request.people_per_group,
        duration_minutes=request.duration_minutes,
        windows=[WindowInput(w.start_date, w.end_date, w.start_time, w.end_time) for w in request.windows])


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def _fill(session: Session, request: InterventionRequest, data: RequestInput, details: RequestDetails) -> None:
    request.group_count = data.group_count
    request.people_per_group = data.people_per_group
    request.duration_minutes = data.duration_minutes
    for name in DETAIL_FIELDS:
        setattr(request, name, _clean(getattr(details, name)))
    request.wants_two_trainers = details.wants_two_trainers
    request.audiences = list(session.scalars(select(Audience).where(Audience.code.in_(data.audience_codes))))
    request.topics = list(session.scalars(select(Topic).where(Topic.code.in_(data.topic_codes))))
    request.windows = [RequestWindow(start_date=w.start_date, end_date=w.end_date, start_time=w.start_time,
                                     end_time=w.end_time) for w in data.windows if w.start_date is not None]


def save_request(session: Session, establishment: Establishment, actor: User, data: RequestInput,
                 details: RequestDetails, existing: InterventionRequest | None, *, send: bool, now: datetime,
                 min_notice_days: int, language: str = "fr") -> SavedRequest:
    """Creates (existing None) or edits a request of the establishment; sends a draft to the coordination when
    `send`. Refused: `InvalidRequest` (a rule fails), "request_not_editable" (planned meanwhile)."""
    findings = check(session, data, establishment, now, min_notice_days, language)
    if not findings.ok:
        raise InvalidRequest(findings)
    if existing is None:
        request = InterventionRequest(establishment_id=establishment.id, created_by_id=actor.id,
                                      departement_code=establishment.departement_code, force=establishment.force,
                                      contact_name="", contact_phone="", created_at=now, updated_at=now)
        session.add(request)
        _fill(session, request, data, details)
        lifecycle.record_creation(session, request, actor, now)
    else:
        request = existing
        lifecycle.record_edit(session, request, actor, now)
        _fill(session, request, data, details)
    session.flush()
    saved = SavedRequest(request, sent=False, warnings=list(findings.warnings))
    if send and not establishment.is_confirmed:
        # Kept as a draft: what was typed is not lost, it goes once the coordination confirms the establishment.
        saved.warnings.append(MESSAGES["establishment_unconfirmed"])
    elif send and request.status is RequestStatus.DRAFT:
        saved.change = lifecycle.submit(session, request, actor, now)
        saved.sent = True
    return saved


def submit_request(session: Session, request: InterventionRequest, actor: User, now: datetime,
                   min_notice_days: int) -> Change:
    """Sends a saved draft, if it still passes every rule (dates move on: a draft can age)."""
    if not check(session, input_of(request), request.establishment, now, min_notice_days).ok:
        raise Refused("request_incomplete")
    return lifecycle.submit(session, request, actor, now)
