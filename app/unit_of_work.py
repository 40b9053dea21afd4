"""The one way a change is saved, for views, commands and jobs alike: run it, queue the e-mails it causes, commit
— or roll back and say why in French.

An operation is a function of no argument that calls the domain. What it returns is kept in the outcome; when
that is a `Change` (or carries one as `.change`, like a committed plan), its notices and calendar invitations
are written to the outbox in the same transaction. A `Refused` from the domain rolls everything back and
becomes the outcome's refusal; any other exception rolls back and propagates, except a transaction the database
aborted to settle a race (a deadlock, a serialization failure, SQLite busy past its timeout): that one is run
again from the start, a few times, so that nobody sees an error for someone else's click.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash
from sqlalchemy.exc import DBAPIError

from app.domain.changes import Change
from app.domain.refusals import Refused, message_for
from app.emails import url_context
from app.extensions import db
from app.invitations import queue_change

T = TypeVar("T")
log = logging.getLogger(__name__)
# Attempts of an operation the database aborted to settle a race (the first one included).
ATTEMPTS = 4
# SQLSTATE of PostgreSQL's deadlock_detected and serialization_failure.
RETRIED_STATES = {"40P01", "40001"}


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


def aborted_by_a_race(error: DBAPIError) -> bool:
    """The database gave up on the transaction to let another one through: running it again will do."""
    original = error.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return state in RETRIED_STATES or "database is locked" in str(original)


def run(operation: Callable[[], T]) -> Outcome[T]:
    """Runs the operation and its e-mails in one transaction; commits, or rolls back on a refusal or an error."""
    session = db.session
    for attempt in range(1, ATTEMPTS + 1):
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
        except DBAPIError as error:
            session.rollback()
            if attempt == ATTEMPTS or not aborted_by_a_race(error):
                raise
            log.info("transaction aborted by the database (%s), attempt %s again", type(error.orig).__name__, attempt)
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 (jitter, not secrecy)
            continue
        except BaseException:
            session.rollback()
            raise
        return Outcome(value=value)
    raise AssertionError("unreachable")


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
