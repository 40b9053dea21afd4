"""What a change tells people, and the history it leaves.

A domain function that changes a request, a session or an offer returns a `Change`: the `Notice`s (plain
e-mails) and `CalendarNotice`s (iTIP invitations) it causes. The unit of work turns them into outbox rows in
the same transaction as the change, so that a change and its messages are saved together or not at all.
`record_event` writes the request's visible history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from app.domain.webhooks import note_event
from app.models import Assignment, Intervention, InterventionRequest, RequestEvent, User


@dataclass(frozen=True)
class Notice:
    """Someone to tell about a change: `kind` names the e-mail."""

    recipient: User
    kind: str
    request: InterventionRequest
    intervention: Intervention | None = None
    reason: str | None = None
    assignment: Assignment | None = None  # the offer or assignment the notice is about


@dataclass(frozen=True)
class CalendarNotice:
    """A calendar message (RFC 5546) about a session: REQUEST (new or changed) or CANCEL.

    `trainers` get it with the trainers' view of the session, and are the officers it names as attendees; the
    requester's contact gets it too when `contact` is set.
    """

    intervention: Intervention
    method: str  # "REQUEST" or "CANCEL"
    trainers: tuple[User, ...]
    contact: bool
    reason: str | None = None
    # A CANCEL that removes `trainers` from a session that goes on (RFC 5546 §3.2.5): it names them alone and
    # leaves the event's status as it is; without it, a CANCEL cancels the event for everyone it names.
    removal: bool = False
    # What a REQUEST about an unchanged time says changed ("place", "room", "contact"…), for the e-mail.
    changed: tuple[str, ...] = ()
    # Former contacts (an address replaced on the request): they get the CANCEL that takes the event away.
    former_contacts: tuple[str, ...] = ()


@dataclass
class Change:
    notices: list[Notice] = field(default_factory=list)
    calendar: list[CalendarNotice] = field(default_factory=list)

    def __iadd__(self, other: Change) -> Change:
        self.notices += other.notices
        self.calendar += other.calendar
        return self


def record_event(session: Session, request: InterventionRequest, actor: User | None, kind: str, now: datetime,
                 note: str | None = None, intervention: Intervention | None = None) -> None:
    """One line of the request's history; `actor` None means Relais itself (a job, the cascade)."""
    session.add(RequestEvent(request_id=request.id, actor_id=actor.id if actor else None, kind=kind, at=now,
                             note=note, intervention_id=intervention.id if intervention else None))
    note_event(session, kind, request, intervention, now)  # the webhooks it is (app.domain.webhooks, #22)
