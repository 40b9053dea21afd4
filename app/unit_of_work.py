"""The one way a change is saved, for views, commands and jobs alike: run it, queue the e-mails it causes, commit
— or roll back and say why in French.

An operation is a function of no argument that calls the domain. What it returns is kept in the outcome; when
that is a `Change` (or carries one as `.change`, like a committed plan), its notices and calendar invitations
are written to the outbox in the same transaction. A `Refused` from the domain rolls everything back and
becomes the outcome's refusal; any other exception rolls back and propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash

from app.domain.changes import Change
from app.domain.refusals import Refused, message_for
from app.emails import url_context
from app.extensions import db
from app.invitations import queue_change

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None = None
    refusal: Refused | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None

    def message(self, wording: Mapping[str, str] | None = None) -> str:
        return message_for(self.refusal, wording) if self.refusal else ""


def change_of(value: object) -> Change | None:
    if isinstance(value, Change):
        return value
    change = getattr(value, "change", None)
    return change if isinstance(change, Change) else None


def run(operation: Callable[[], T]) -> Outcome[T]:
    """Runs the operation and its e-mails in one transaction; commits, or rolls back on a refusal or an error."""
    session = db.session
    try:
        with url_context():  # links in e-mails, from a command or a job too
            value = operation()
            change = change_of(value)
            if change is not None:
                queue_change(change)
        session.commit()
    except Refused as refusal:
        session.rollback()
        return Outcome(refusal=refusal)
    except BaseException:
        session.rollback()
        raise
    return Outcome(value=value)


def perform(operation: Callable[[], T], done: str | None = None, wording: Mapping[str, str] | None = None,
            refused_category: str = "warning") -> Outcome[T]:
    """`run` for a view: flashes `done` on success, the refusal's sentence (or the page's `wording` of it)
    otherwise."""
    outcome = run(operation)
    if not outcome.ok:
        flash(outcome.message(wording), refused_category)
    elif done:
        flash(done, "success")
    return outcome
