"""The revision of what the statistics count: raised in the same transaction as any change to it.

A dashboard over a national school year takes a few hundred milliseconds of SQL; cached under the revision it
was computed at, it is served again until the next change, and recomputed right after it (a report filed moves
the figures at once). Every write made through an ORM session counts (app.domain.writes: the unit of work and
the INSERT, UPDATE and DELETE statements executed through a session). The counter is raised once per
transaction, at commit, so that its row is locked only for the commit itself.
"""

from __future__ import annotations

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app.domain.writes import written_tables
from app.models.revisions import StatisticsRevision

# Tables whose changes the statistics never read (any other table counts: a new one is safe by default).
UNCOUNTED_TABLES = frozenset({
    "statistics_revision", "outgoing_message", "calendar_entry", "calendar_feed", "request_event", "join_request",
    "availability_pattern", "availability_exception", "user_account", "coordinator_scope", "login_session",
    # Bookkeeping of the autopilot (#20: a coordinator's visit to their home wrote here and emptied the dashboards'
    # cache each time), the audit trail, tokens, webhooks, retention and sign-in settings (#21, #22).
    "home_visit", "autopilot_setting", "autopilot_note", "autopilot_proposal", "autopilot_proposal_item",
    "audit_entry", "audit_checkpoint", "access_token", "webhook_subscription", "webhook_delivery",
    "retention_setting", "correction_request", "inactivity_warning", "sign_in_settings", "recovery_code",
    "caldav_connection", "caldav_push",
})


def current_revision(session: Session) -> int | None:
    """The revision committed so far (None: the counter's row is missing, and nothing may be cached)."""
    return session.scalar(select(StatisticsRevision.revision).where(StatisticsRevision.id == 1))


@event.listens_for(Session, "before_commit")
def _raise_revision(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit would flush them after this hook: note them now
    if written_tables(session) - UNCOUNTED_TABLES:
        session.execute(update(StatisticsRevision).where(StatisticsRevision.id == 1)
                        .values(revision=StatisticsRevision.revision + 1))
