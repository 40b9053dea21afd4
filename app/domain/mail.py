"""The one way e-mail leaves Relais: write to the outbox in the caller's transaction, deliver later.

`queue_email` adds a row to the session the caller commits, so a change and the message it causes
are saved together or not at all. `deliver_pending` claims due rows one at a time, sends each, and
records the outcome; a failure is retried with back-off and never loses the message.

Delivery is at least once: a relay that stores a message and drops the connection before answering,
or a worker that dies between sending and recording, gets it sent again. Every attempt carries the
same Message-ID (derived from the outbox row), so mail systems recognise the copy.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from time import monotonic

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models.base import insert_for
from app.models.outbox import MessageStatus, OutgoingMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(minutes=10)


def queue_email(
    session: Session,
    *,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    calendar: str | None = None,
    calendar_method: str | None = None,
    dedup_key: str | None = None,
    reply_to: str | None = None,
    now: datetime,
) -> OutgoingMessage | None:
    """Adds a message to the outbox; with a dedup_key already used, adds nothing and returns None.

    With a key, the INSERT itself skips a duplicate (ON CONFLICT DO NOTHING): two jobs running at
    once write the message once, without either failing."""
    if dedup_key is not None:
        inserted = session.execute(
            insert_for(session)(OutgoingMessage)
            .values(recipient=recipient, subject=subject, body_text=body_text, body_html=body_html,
                    calendar=calendar, calendar_method=calendar_method, dedup_key=dedup_key, reply_to=reply_to,
                    created_at=now,
                    next_attempt_at=now, status=MessageStatus.PENDING, attempts=0)
            .on_conflict_do_nothing(index_elements=[OutgoingMessage.dedup_key])
            .returning(OutgoingMessage.id)).scalar()
        return session.get(OutgoingMessage, inserted) if inserted is not None else None
    message = OutgoingMessage(
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        calendar=calendar,
        calendar_method=calendar_method,
        dedup_key=dedup_key,
        reply_to=reply_to,
        created_at=now,
        next_attempt_at=now,
        status=MessageStatus.PENDING,
    )
    session.add(message)
    return message


_HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*",
                        re.IGNORECASE)


def _usable_domain(domain: str | None) -> str | None:
    """A host name a Message-ID may end with (RFC 5322 §3.6.4's dot-atom, kept to what DNS allows), or None: not a
    bare name (« relais »), nor `localhost` and its subdomains, which name no one's domain (RFC 6761)."""
    if not domain or "." not in domain or not _HOST_NAME.fullmatch(domain):
        return None
    lowered = domain.lower().rstrip(".")
    return None if lowered == "localhost" or lowered.endswith(".localhost") else domain


def message_id(message: OutgoingMessage, sender: str, base_host: str | None = None) -> str:
    """The same for every attempt at one outbox row (RFC 5322 §3.6.4), under the sender's domain; a sender without
    a usable domain ("Relais <relais>"): the host of the public address (RELAIS_BASE_URL), which the caller reads
    from the configuration; neither: this machine's name, as `email.utils.make_msgid` does."""
    local, at, sender_domain = parseaddr(sender)[1].rpartition("@")
    domain = (_usable_domain(sender_domain if local and at else None) or _usable_domain(base_host)
              or socket.getfqdn())
    return f"<relais.{message.id}.{int(message.created_at.timestamp())}@{domain}>"


class Subject(str):
    """A Subject folded by `email.header.Header`: RFC 2047 words of at most 75 characters that keep every space.
    Python 3.11's own folder drops the space between two encoded words when it folds a line there, and mail
    programs then show « Collège n°60 » as « Collègen°60 ». An object with a `name` and a `fold` is what
    `email.policy` stores and writes as it is."""

    name = "Subject"

    def fold(self, *, policy) -> str:
        if str(self).isascii():
            return policy.header_factory(self.name, str(self)).fold(policy=policy)
        encoded = Header(str(self), "utf-8", maxlinelen=76, header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


def build_mime(message: OutgoingMessage, sender: str, now: datetime, base_host: str | None = None) -> EmailMessage:
    """multipart/alternative (text, HTML, calendar) plus the calendar as an .ics attachment."""
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = message.recipient
    if message.reply_to:
        mime["Reply-To"] = message.reply_to  # the sender is not read: a reply reaches the coordination
    mime["Subject"] = Subject(message.subject)
    mime["Date"] = format_datetime(now)  # relays and filters refuse or quarantine mail without one
    mime["Message-ID"] = message_id(message, sender, base_host)
    mime.set_content(message.body_text)
    if message.body_html:
        mime.add_alternative(message.body_html, subtype="html")
    if message.calendar:
        method = message.calendar_method or "PUBLISH"
        mime.add_alternative(message.calendar, subtype="calendar", params={"method": method})
        mime.make_mixed()
        mime.add_attachment(
            message.calendar.encode("utf-8"), maintype="application", subtype="ics", filename="invitation.ics"
        )
    return mime


@dataclass
class SmtpTransport:
    host: str
    port: int
    use_tls: bool = False
    use_ssl: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 20.0

    def send(self, mime: EmailMessage) -> None:
        if self.use_ssl:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.use_tls:
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password)
            client.send_message(mime)


class ConsoleTransport:
    """Development: the message goes to the log, where the person running the app reads it."""

    def send(self, mime: EmailMessage) -> None:
        body = mime.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        log.info("E-mail to %s — %s\n%s", mime["To"], mime["Subject"], text)


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 240))


def claim_due_messages(session: Session, now: datetime, limit: int) -> Sequence[OutgoingMessage]:
    """Rows due for sending, locked so that parallel workers take different ones (SKIP LOCKED)."""
    query = (
        select(OutgoingMessage)
        .where(
            OutgoingMessage.status.in_([MessageStatus.PENDING, MessageStatus.SENDING]),
            OutgoingMessage.next_attempt_at <= now,
        )
        .order_by(OutgoingMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    candidates = session.scalars(query).all()
    claimed = []
    for message in candidates:
        # The conditional update is the claim: on SQLite, another worker may have won the row.
        result = session.execute(
            update(OutgoingMessage)
            .where(
                OutgoingMessage.id == message.id,
                OutgoingMessage.status == message.status,
                OutgoingMessage.attempts == message.attempts,
            )
            # The lease: a worker that dies while sending leaves the row claimable again later.
            .values(
                status=MessageStatus.SENDING,
                attempts=OutgoingMessage.attempts + 1,
                next_attempt_at=now + CLAIM_LEASE,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(message)
    session.commit()
    for message in claimed:
        session.refresh(message)
    return claimed


def deliver_pending(session: Session, transport, sender: str, now: datetime, limit: int = 50, *,
                    base_host: str | None = None) -> tuple[int, int]:
    """Sends up to `limit` due messages, claiming each just before sending it: its lease starts then, so a round
    that takes long (a slow relay) never sends a message whose lease another worker has taken over. Returns
    (sent, failed this round). `base_host`: the public address's host, for Message-IDs when the sender has no
    usable domain."""
    sent = failed = 0
    started = monotonic()
    for _ in range(limit):
        moment = now + timedelta(seconds=monotonic() - started)
        claimed = claim_due_messages(session, moment, 1)
        if not claimed:
            break
        message = claimed[0]
        try:
            transport.send(build_mime(message, sender, moment, base_host))
        except (OSError, smtplib.SMTPException) as error:
            failed += 1
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = MessageStatus.FAILED
            else:
                message.status = MessageStatus.PENDING
                message.next_attempt_at = moment + _backoff(message.attempts)
            log.warning("Delivery of message %s failed: %s", message.id, message.last_error)
        else:
            sent += 1
            message.status = MessageStatus.SENT
            message.sent_at = moment
            message.last_error = None
        session.commit()
    return sent, failed


def retry_message(session: Session, message_id: int, now: datetime) -> bool:
    """An admin puts a failed message back in the queue."""
    result = session.execute(
        update(OutgoingMessage)
        .where(OutgoingMessage.id == message_id, OutgoingMessage.status == MessageStatus.FAILED)
        .values(status=MessageStatus.PENDING, next_attempt_at=now, attempts=0)
    )
    return result.rowcount == 1
