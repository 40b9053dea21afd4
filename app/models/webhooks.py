"""Signed webhooks (#22): a URL subscribed to events, and the queue of deliveries to it.

`WebhookSubscription`: owned either by an establishment (its own requests and sessions) or by a coordination
territory (a département, and a force or both), the URL, the events chosen, the signing secret (encrypted with
the CalDAV key, see app.domain.webhooks), paused by its owners or after repeated failures.

`WebhookDelivery`: one row per (subscription, event), written in the transaction of the change; the JSON body
signed at each attempt; its id (`uuid`, the `Relais-Webhook-Id` header) stays the same across retries and
replays, for the receiver's idempotence. The last answer is kept (code, headers, truncated body, duration).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import utcnow
from app.models.base import db
from app.models.enums import Force, enum_column


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a worker (a lease: taken again if the worker died)
    DELIVERED = "delivered"  # answered 2xx
    FAILED = "failed"  # every attempt failed: replayable from the page


class WebhookSubscription(db.Model):
    __tablename__ = "webhook_subscription"
    __table_args__ = (
        CheckConstraint("(establishment_id IS NULL) <> (departement_code IS NULL)", name="one_owner"),
        CheckConstraint("consecutive_failures >= 0", name="failures_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(200))
    # The event names chosen (app.domain.webhooks.EVENTS), separated by commas.
    events: Mapped[str] = mapped_column(String(400))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id", ondelete="CASCADE"),
                                                         index=True)
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departement.code"), index=True)
    force: Mapped[Force | None] = mapped_column(enum_column(Force, "force"))  # None: both forces
    # Who created it, told by e-mail when it is paused after failures.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Fernet token of the signing secret (it must be read back to sign).
    secret_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    paused_at: Mapped[datetime | None]
    paused_for_failures: Mapped[bool] = mapped_column(default=False)
    # Failed attempts in a row (any delivery); a success sets it back to 0.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    establishment = relationship("Establishment")
    owner = relationship("User")

    @property
    def event_names(self) -> list[str]:
        return [name for name in self.events.split(",") if name]


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_log", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    # The JSON body, exactly the bytes signed and sent (UTF-8).
    payload: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus, "webhook_delivery_status"),
                                                   default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    # The last answer: HTTP code, headers and the start of the body, or why there was none.
    response_status: Mapped[int | None]
    response_headers: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int | None]

    subscription = relationship("WebhookSubscription")
