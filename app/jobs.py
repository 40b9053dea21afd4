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
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app import unit_of_work
from app.domain import audit, caldav_push, retention, webhooks
from app.domain.autopilot import AutopilotSettings, plan_scope, scope_changes, scopes_to_plan
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
from app.models import User, WebhookSubscription

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
    scopes = scopes_to_plan(session)
    changes = scope_changes(session, scopes)  # once for all the scopes: those it does not concern are not read
    for scope in scopes:
        try:
            outcome = unit_of_work.run(lambda scope=scope: plan_scope(session, scope, now, settings, changes)).value
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


@job
def send_webhooks(session: Session, now: datetime) -> int:
    """The webhook deliveries due (app.domain.webhooks): posted, or back in the queue with back-off; the owner of a
    subscription paused after repeated failures is told by e-mail, once per pause. Returns the deliveries made."""
    config = current_app.config
    outcome = webhooks.deliver_due(session, now, caldav_push.keys_from(config), webhooks.Settings.from_config(config))
    for subscription_id in outcome.paused:
        subscription = session.get(WebhookSubscription, subscription_id)
        if subscription is None or subscription.owner is None or not subscription.owner.active:
            continue
        queue_templated_email(subscription.owner, "webhook_paused", _l("Envois webhook mis en pause"),
                              dedup_key=f"webhook-paused:{subscription.id}:{subscription.paused_at.isoformat()}",
                              subscription=subscription, failures=subscription.consecutive_failures,
                              link=absolute_url("webhooks.show", subscription_id=subscription.id))
    return outcome.delivered


# -- personal data (RGPD, issue #21): the retention periods of app.domain.retention, applied -------------------------


@job
def anonymise_request_contacts(session: Session, now: datetime) -> int:
    """The on-site contacts and notes of requests whose last session is older than the period."""
    done = retention.anonymise_request_contacts(session, now)
    log.info("Retention: %s request contact(s) anonymised", done)
    return done


@job
def anonymise_feedback_comments(session: Session, now: datetime) -> int:
    """The feedback comments of requests whose last session is older than the period (the marks stay)."""
    done = retention.anonymise_feedback_comments(session, now)
    log.info("Retention: %s feedback comment(s) removed", done)
    return done


@job
def warn_unused_accounts(session: Session, now: datetime) -> int:
    """Accounts unused for the period: an e-mail saying when they will be deactivated unless used, once for each
    period of inactivity (the warning row and the e-mail's dedup key: twice at once writes one)."""
    queued = 0
    for account in retention.accounts_to_warn(session, now):
        if not retention.record_warning(session, account, now):
            continue  # another run warned them first
        queue_templated_email(account.user, "inactivity_warning", _l("Votre compte Relais sera désactivé"),
                              dedup_key=f"inactivity:{account.user.id}:{account.last_activity.isoformat()}",
                              last_activity=account.last_activity, deactivation_on=account.deactivation_on,
                              link=absolute_url("auth.login"))
        queued += 1
    log.info("Retention: %s unused account(s) warned", queued)
    return queued


@job
def deactivate_unused_accounts(session: Session, now: datetime) -> int:
    """Accounts warned the warning period ago and still unused since: deactivated."""
    done = retention.deactivate_unused_accounts(session, now)
    log.info("Retention: %s unused account(s) deactivated", done)
    return done


def archive_folder() -> Path:
    configured = current_app.config.get("RELAIS_ARCHIVE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "archives"


@job
def archive_departed_trainers(session: Session, now: datetime) -> int:
    """Trainers who left more than the period ago: their record written to the archive folder as JSON
    (formateurs/formateur-<id>-<départ>.json), then anonymised; each claimed by a conditional UPDATE."""
    folder = archive_folder() / "formateurs"
    done = 0
    for trainer_id in retention.departed_trainers_due(session, now):
        if retention.archive_and_anonymise_trainer(session, trainer_id, folder, now) is not None:
            done += 1
    log.info("Retention: %s departed trainer(s) archived and anonymised", done)
    return done


# name shown in the command's report → job, in the order they run
def purge_audit_trail(session: Session, now: datetime) -> int:
    """The audit trail's entries older than its retention period (#21: `retention_setting`, 12 months by default,
    the CNIL's recommendation for logs), deleted; a checkpoint keeps the rest of the chain verifiable
    (app.domain.audit.purge). Returns how many were deleted."""
    return audit.purge(session, retention.period(session, "audit_trail").before(now), now)


JOBS: dict[str, Job] = {
    "avertissements-habilitation": warn_expiring_certifications,
    "propositions-expirees": expire_due_offers,
    "autopilote": autopilot_tick,
    "rappels-avant-intervention": remind_before_sessions,
    "comptes-rendus-en-retard": remind_overdue_reports,
    "invitations-avis": invite_feedback,
    "synthese-hebdomadaire": weekly_digest,
    "agendas-caldav": push_to_calendars,
    "webhooks": send_webhooks,
    "anonymisation-contacts-demandes": anonymise_request_contacts,
    "anonymisation-commentaires-avis": anonymise_feedback_comments,
    "avertissements-comptes-inutilises": warn_unused_accounts,
    "desactivation-comptes-inutilises": deactivate_unused_accounts,
    "archivage-formateurs-partis": archive_departed_trainers,
    "purge-journal": purge_audit_trail,
}
# The retention jobs change data (the warning's e-mail goes with a row of its own): not the demo's outbox's.
RETENTION_JOBS = ("anonymisation-contacts-demandes", "anonymisation-commentaires-avis",
                  "avertissements-comptes-inutilises", "desactivation-comptes-inutilises",
                  "archivage-formateurs-partis")
# The jobs that write messages and nothing else (the expiry commits offer by offer, the CalDAV push talks to
# servers).
MESSAGE_JOBS = tuple(name for name in JOBS if name not in ("propositions-expirees", "autopilote", "agendas-caldav",
                                                                  "webhooks", "purge-journal")
                     and name not in RETENTION_JOBS)


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
