"""Warns trainers and their coordinators, once, when a certification lapses within 60 days."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.domain.certification import CertificationState, certification_status
from app.domain.periodic import periodic_job
from app.domain.roster import certification_condition
from app.models import CoordinatorScope, OutgoingMessage, Role, Trainer, User


def warning_dedup_key(trainer: Trainer, recipient: User, valid_until) -> str:
    """One warning per recipient and per certification period: a new refresher starts a new period."""
    return f"certification-warning:{trainer.id}:{valid_until.isoformat()}:{recipient.id}"


@periodic_job("avertissements-habilitation")
def warn_expiring_certifications(session: Session, now: datetime) -> int:
    """Queues the warnings not sent yet; returns how many e-mails it queued."""
    from app.emails import queue_templated_email, url_context

    today = now.date()
    trainers = session.scalars(
        select(Trainer).where(Trainer.active, certification_condition(CertificationState.EXPIRING, today))
        .options(selectinload(Trainer.departements)).order_by(Trainer.id)).all()
    if not trainers:
        return 0
    codes = {departement.code for trainer in trainers for departement in trainer.departements}
    coordinators = session.scalars(
        select(User).join(CoordinatorScope, CoordinatorScope.user_id == User.id)
        .where(User.role == Role.COORDINATOR, User.active, CoordinatorScope.departement_code.in_(codes))
        .options(selectinload(User.scopes))).unique().all()

    planned = []
    for trainer in trainers:
        valid_until = certification_status(trainer.certified_since, today).valid_until
        if trainer.user.active:
            planned.append((trainer, trainer.user, valid_until, False))
        for coordinator in coordinators:
            if any(scope.covers(departement.code, trainer.force)
                   for scope in coordinator.scopes for departement in trainer.departements):
                planned.append((trainer, coordinator, valid_until, True))
    keys = [warning_dedup_key(trainer, recipient, valid_until) for trainer, recipient, valid_until, _ in planned]
    already = set(session.scalars(select(OutgoingMessage.dedup_key).where(OutgoingMessage.dedup_key.in_(keys))))
    queued = 0
    with url_context():  # `flask tick` runs outside any request
        for (trainer, recipient, valid_until, for_coordinator), key in zip(planned, keys, strict=True):
            if key in already:
                continue
            subject = (_l("Habilitation de %(name)s à renouveler", name=trainer.full_name) if for_coordinator
                       else _l("Votre habilitation de formateur est à renouveler"))
            queue_templated_email(recipient, "certification_warning", subject, dedup_key=key, trainer=trainer,
                                  valid_until=valid_until, for_coordinator=for_coordinator)
            queued += 1
    return queued
