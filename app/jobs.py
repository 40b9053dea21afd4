"""Periodic jobs run by `flask --app wsgi tick` (cron-friendly, idempotent): they ask the domain what is due,
write the e-mails, and commit.

Each job is `job(session, now) -> int`, how many things it did; `run_periodic_jobs` gives each its own unit of
work. A job must be safe to run every minute and twice at once: it writes through conditional updates or dedup
keys, never read-then-write. The jobs that only write messages also fill the demo's outbox (`write_messages`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app import unit_of_work
from app.domain import caldav_push
from app.domain.autopilot import AutopilotSettings, plan_scope, scopes_to_plan
from app.domain.certification_warnings import warnings_due
from app.domain.offers import OfferSettings, expire_offer, expired_offer_ids
from app.domain.reminders import (
    coordinators_with_a_scope,
    digest_counts,
    digest_key,
    overdue_reports,
    reminder_key,
    reminder_recipients,
    sessions_awaiting_feedback,
    sessions_to_remind,
)
from app.emails import absolute_url, queue_templated_email, url_context
from app.models import User

Job = Callable[[Session, datetime], int]
log = logging.getLogger(__name__)


def job(function: Job) -> Job:
    """A periodic job: its e-mails' links point at the public address, whoever runs it (tick, a test, the demo)."""

    @wraps(function)
    def with_links(session: Session, now: datetime) -> int:
        with url_context():
            return function(session, now)

    return with_links


@job
def warn_expiring_certifications(session: Session, now: datetime) -> int:
    """Trainers and their coordinators, once per certification period, 60 days before it lapses."""
    queued = 0
    for warning in warnings_due(session, now):
        subject = (_l("Habilitation de %(name)s à renouveler", name=warning.trainer.full_name)
                   if warning.for_coordinator else _l("Votre habilitation de formateur est à renouveler"))
        link = (absolute_url("trainers.detail", trainer_id=warning.trainer.id) if warning.for_coordinator
                else absolute_url("main.home"))
        queue_templated_email(warning.recipient, "certification_warning", subject, dedup_key=warning.dedup_key,
                              trainer=warning.trainer, valid_until=warning.valid_until,
                              for_coordinator=warning.for_coordinator, link=link)
        queued += 1
    return queued


@job
def expire_due_offers(session: Session, now: datetime) -> int:
    """Expires the offers past their deadline and passes each session on, one unit of work per offer."""
    settings = OfferSettings.from_config(current_app.config)
    expired = 0
    for assignment_id in expired_offer_ids(session, now):
        # None: answered meanwhile, or expired by another `tick` running at the same time.
        outcome = unit_of_work.run(lambda assignment_id=assignment_id: expire_offer(session, assignment_id, now,
                                                                                     settings))
        expired += 1 if outcome.value is not None else 0
    return expired


@job
def autopilot_tick(session: Session, now: datetime) -> int:
    """The autopilot (app.domain.autopilot): each scope in "proposed" or "automatic" mode planned over the rolling
    horizon, in its own unit of work; returns the offers sent or proposed. A scope another tick is planning is
    skipped."""
    settings = AutopilotSettings.from_config(current_app.config)
    done, failure = 0, None
    for scope in scopes_to_plan(session):
        try:
            outcome = unit_of_work.run(lambda scope=scope: plan_scope(session, scope, now, settings)).value
        except Exception as error:  # one territory's fault must not keep the others unplanned
            log.exception("Autopilot: planning %s (%s) failed", *scope)
            failure = failure or error
            continue
        done += outcome.offers if outcome is not None else 0
    if failure is not None:
        raise failure  # the others are planned: the job is still reported failed
    return done


@job
def remind_before_sessions(session: Session, now: datetime) -> int:
    """A week and a day before (configurable): to each trainer and to the establishment's contact."""
    queued = 0
    for days in current_app.config["RELAIS_REMINDER_DAYS_BEFORE"]:
        subject = (_l("Rappel : intervention demain") if days == 1
                   else _l("Rappel : intervention dans %(days)s jours", days=days))
        for intervention in sessions_to_remind(session, now, days):
            for recipient, side in reminder_recipients(intervention):
                address = recipient.email if isinstance(recipient, User) else recipient
                link = (absolute_url("main.home") if side == "trainer"
                        else absolute_url("interventions.show", request_id=intervention.request_id))
                if queue_templated_email(recipient, "reminder_session", subject, days=days, link=link,
                                         dedup_key=reminder_key(intervention, days, address),
                                         intervention=intervention):
                    queued += 1
    return queued


@job
def remind_overdue_reports(session: Session, now: datetime) -> int:
    """Trainers whose report is late (2 days after the session by default), once per session."""
    overdue = timedelta(days=current_app.config["RELAIS_REPORT_OVERDUE_DAYS"])
    queued = 0
    for intervention, trainer in overdue_reports(session, now, overdue):
        if queue_templated_email(trainer.user, "report_overdue", _l("Compte rendu d'intervention à remplir"),
                                 dedup_key=f"report-overdue:{intervention.id}:{trainer.id}",
                                 intervention=intervention,
                                 link=absolute_url("reports.file", intervention_id=intervention.id)):
            queued += 1
    return queued


@job
def invite_feedback(session: Session, now: datetime) -> int:
    """Once a session is reported held, the requester is invited to give their opinion, once."""
    queued = 0
    for intervention in sessions_awaiting_feedback(session, now):
        link = absolute_url("interventions.feedback", request_id=intervention.request_id,
                            intervention_id=intervention.id)
        if queue_templated_email(intervention.request.created_by, "feedback_invitation",
                                 _l("Votre avis sur l'intervention"), link=link, intervention=intervention,
                                 dedup_key=f"feedback-invitation:{intervention.id}"):
            queued += 1
    return queued


@job
def weekly_digest(session: Session, now: datetime) -> int:
    """Each coordinator, once a week, if something needs them."""
    queued = 0
    for coordinator in coordinators_with_a_scope(session):
        counts = digest_counts(session, coordinator, now)
        if any(counts.values()) and queue_templated_email(
                coordinator, "weekly_digest", _l("Relais : votre synthèse de la semaine"),
                dedup_key=digest_key(coordinator, now), counts=counts, link=absolute_url("main.home")):
            queued += 1
    return queued


def push_to_calendars(session: Session, now: datetime) -> int:
    """The changes of sessions waiting for people's own CalDAV calendars (app.domain.caldav_push): written, or
    back in the queue with back-off; returns how many were written."""
    config = current_app.config
    return caldav_push.push_due(session, now, caldav_push.keys_from(config),
                                timeout=config["RELAIS_CALDAV_TIMEOUT"]).written


# name shown in the command's report → job, in the order they run
JOBS: dict[str, Job] = {
    "avertissements-habilitation": warn_expiring_certifications,
    "propositions-expirees": expire_due_offers,
    "autopilote": autopilot_tick,
    "rappels-avant-intervention": remind_before_sessions,
    "comptes-rendus-en-retard": remind_overdue_reports,
    "invitations-avis": invite_feedback,
    "synthese-hebdomadaire": weekly_digest,
    "agendas-caldav": push_to_calendars,
}
# The jobs that write messages and nothing else (the expiry commits offer by offer, the CalDAV push talks to
# servers).
MESSAGE_JOBS = tuple(name for name in JOBS if name not in ("propositions-expirees", "autopilote", "agendas-caldav"))


def run_periodic_jobs(session: Session, now: datetime) -> dict[str, int | None]:
    """Runs every job, each in its own unit of work; returns what each did, None for a job that failed (logged with
    its traceback): one job's fault does not stop the others."""
    report: dict[str, int | None] = {}
    for name, job_function in JOBS.items():
        try:
            report[name] = unit_of_work.run(lambda job_function=job_function: job_function(session, now)).value
        except Exception:
            log.exception("Periodic job %s failed", name)
            report[name] = None
    return report


def write_messages(session: Session, now: datetime) -> None:
    """The messages the jobs would write now, in the caller's transaction (the demo's outbox)."""
    for name in MESSAGE_JOBS:
        JOBS[name](session, now)
