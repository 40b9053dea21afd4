"""Whom to warn, once, when a trainer's certification lapses within 60 days: the trainer and the coordinators of
their territory. The periodic job (app.jobs) writes the e-mails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.domain.certification import CertificationState, certification_status
from app.domain.policies import TRAINERS
from app.domain.roster import certification_condition
from app.models import CoordinatorScope, OutgoingMessage, Role, Trainer, User


@dataclass(frozen=True)
class CertificationWarning:
    trainer: Trainer
    recipient: User
    valid_until: date
    for_coordinator: bool
    dedup_key: str


def warning_dedup_key(trainer: Trainer, recipient: User, valid_until: date) -> str:
    """One warning per recipient and per certification period: a new refresher starts a new period."""
    return f"certification-warning:{trainer.id}:{valid_until.isoformat()}:{recipient.id}"


def warnings_due(session: Session, now: datetime) -> list[CertificationWarning]:
    """The warnings not sent yet, trainer by trainer."""
    today = now.date()
    trainers = session.scalars(
        select(Trainer).where(Trainer.active, certification_condition(CertificationState.EXPIRING, today))
        .options(selectinload(Trainer.departements)).order_by(Trainer.id)).all()
    if not trainers:
        return []
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
            if TRAINERS.allows_object(coordinator, "view", trainer):
                planned.append((trainer, coordinator, valid_until, True))
    warnings = [CertificationWarning(trainer, recipient, valid_until, for_coordinator,
                                     warning_dedup_key(trainer, recipient, valid_until))
                for trainer, recipient, valid_until, for_coordinator in planned]
    already = set(session.scalars(select(OutgoingMessage.dedup_key).where(
        OutgoingMessage.dedup_key.in_([w.dedup_key for w in warnings]))))
    return [w for w in warnings if w.dedup_key not in already]
