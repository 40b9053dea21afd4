"""Calendar invitations by e-mail (RFC 6047 iMIP): REQUEST when a session is confirmed or changes,
CANCEL when it is cancelled or a trainer is withdrawn, each through the outbox with the change."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.domain.caldav_push import enqueue_push
from app.domain.calendar import ESTABLISHMENT, TRAINER, Organizer, session_event, single_event_calendar
from app.domain.changes import CalendarNotice, Change
from app.domain.clock import utcnow
from app.domain.coordination_offices import organizer_address
from app.emails import absolute_url, queue_notices, queue_templated_email
from app.extensions import db
from app.models import Intervention, OutgoingMessage, User

FORCE_NAMES = {"police": "police nationale", "gendarmerie": "gendarmerie nationale"}


def organizer_for(intervention: Intervention) -> Organizer:
    """The coordination of the session's territory (département and force), where answers go: the address the
    administration set, else a coordinator's, else the sender's (app.domain.coordination_offices)."""
    return organizer_address(db.session, intervention, current_app.config["MAIL_DEFAULT_SENDER"])


def session_url(intervention: Intervention, variant: str) -> str:
    """Where the session's page is for that reader: a trainer's own page of it (where, what was asked, report)."""
    if variant == TRAINER:
        return absolute_url("trainers.session", intervention_id=intervention.id)
    if variant == ESTABLISHMENT:
        return absolute_url("interventions.show", request_id=intervention.request_id)
    return absolute_url("coordination.show", request_id=intervention.request_id)


def event_calendar(intervention: Intervention, variant: str, method: str | None = None, *,
                   notice: CalendarNotice | None = None, contact: str | None = None,
                   language: str | None = None) -> bytes:
    """One session as a whole calendar, built now (DTSTAMP = now), for an e-mail or a download; its texts in
    `language` (an invitation: its recipient's), else in the language of the moment (a download: the page's).

    A CANCEL names the people it removes: every one invited when the session is cancelled (RFC 5546 §3.2.5), the
    withdrawn trainer alone, without STATUS:CANCELLED, when the session goes on without them."""
    removal = notice is not None and notice.removal
    status = "CANCELLED" if method == "CANCEL" and not removal else None
    trainers = notice.trainers if notice is not None and method == "CANCEL" else None
    if removal and contact is None and not notice.contact:
        contact = ""  # trainers removed while the session goes on: the contact stays, so is not named
    if language is not None:
        with force_locale(language):
            return event_calendar(intervention, variant, method, notice=notice, contact=contact)
    event = session_event(intervention, variant=variant, url=session_url(intervention, variant),
                          organizer=organizer_for(intervention), stamp=utcnow(), status=status, trainers=trainers,
                          contact=contact)
    return single_event_calendar(event, intervention.request.establishment.timezone, method=method)


def _contact_address(intervention: Intervention) -> str | None:
    request = intervention.request
    if request.contact_email:
        return request.contact_email
    return request.created_by.email if request.created_by else None


def _already_invited(intervention: Intervention, address: str) -> bool:
    prefix = f"ical:{intervention.ical_uid}:"
    return db.session.scalar(select(OutgoingMessage.id).where(
        OutgoingMessage.dedup_key.like(f"{prefix}%"), OutgoingMessage.recipient == address).limit(1)) is not None


def _queue(notice: CalendarNotice, recipient: User | str, variant: str, *, contact: str | None = None) -> None:
    intervention, method = notice.intervention, notice.method
    address = recipient.email if isinstance(recipient, User) else recipient
    name = intervention.request.establishment.name
    if method == "CANCEL" and (notice.removal or contact is not None):
        kind, subject = "removed", _l("Vous n'êtes plus attendu : %(summary)s", summary=name)
    elif method == "CANCEL":
        kind, subject = "cancel", _l("Annulation : %(summary)s", summary=name)
    elif _already_invited(intervention, address):
        kind, subject = "update", _l("Mise à jour : %(summary)s", summary=name)
    else:
        kind, subject = "new", _l("Invitation : %(summary)s", summary=name)
    # In the recipient's language, like the e-mail around it (an address without an account: the service's).
    language = recipient.language if isinstance(recipient, User) else "fr"
    calendar = event_calendar(intervention, variant, method, notice=notice, contact=contact,
                              language=language).decode("utf-8")
    enqueue_push(db.session, recipient, intervention, calendar, method, utcnow())  # their own CalDAV calendar
    # One message per change and recipient, whatever retries or double clicks happen.
    key = f"ical:{intervention.ical_uid}:{intervention.ical_sequence}:{method}:{address}"
    queue_templated_email(recipient, "calendar_invitation", subject, dedup_key=key, calendar=calendar,
                          calendar_method=method, kind=kind, intervention=intervention, reason=notice.reason,
                          changed=notice.changed,
                          # a trainer taken off the session no longer sees its page: their home says what is next
                          link=absolute_url("main.home") if kind in ("removed", "cancel") and variant == TRAINER
                          else session_url(intervention, variant))


def _calendar_recipients(notice: CalendarNotice) -> list[tuple[User | str, str]]:
    recipients: list[tuple[User | str, str]] = [(user, TRAINER) for user in notice.trainers]
    if notice.contact:
        address = _contact_address(notice.intervention)
        if address:
            creator = notice.intervention.request.created_by
            recipients.append((creator if creator is not None and creator.email == address else address,
                               ESTABLISHMENT))
    return recipients


# Notices that a calendar message about the same session, to the same person, already says.
_SAID_BY_CALENDAR = ("session_cancelled", "withdrawn", "session_confirmed")


def queue_change(change: Change) -> None:
    """Every e-mail a change causes, one per person and session: calendar messages, then notices."""
    covered: set[tuple[str, int]] = set()
    for notice in change.calendar:
        db.session.refresh(notice.intervention)
        for recipient, variant in _calendar_recipients(notice):
            _queue(notice, recipient, variant)
            address = recipient.email if isinstance(recipient, User) else recipient
            covered.add((address, notice.intervention.id))
        for address in notice.former_contacts:
            former = CalendarNotice(notice.intervention, "CANCEL", (), contact=False, removal=True)
            _queue(former, address, ESTABLISHMENT, contact=address)
    queue_notices([n for n in change.notices if not (
        n.kind in _SAID_BY_CALENDAR and n.intervention is not None
        and (n.recipient.email, n.intervention.id) in covered)])


