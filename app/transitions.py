"""The one way a view applies a life-cycle change: commit it with its e-mails, or say why not."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from app.domain import lifecycle
from app.extensions import db
from app.invitations import queue_change


def apply_transition(change: Callable[[], lifecycle.Change], refused_message: str, done_message: str) -> bool:
    """Runs the change; on success queues its notices in the same transaction and commits.

    A refused transition (someone else changed the state first) rolls back and tells the user.
    """
    try:
        result = change()
    except lifecycle.TransitionRefusedError:
        db.session.rollback()
        flash(refused_message, "info")
        return False
    queue_change(result)
    db.session.commit()
    flash(done_message, "success")
    return True
