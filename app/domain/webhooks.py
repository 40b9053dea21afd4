"""Signed webhooks (#22): what happened to requests and sessions, posted as signed JSON to the subscribers' URLs.

Where events come from: `changes.record_event`, the one place every change writes the request's history, notes
the event in the session (`note_event`); the unit of work then writes one `WebhookDelivery` per (subscription
interested, event) with the change's other rows (`queue_noted_events`), in the same transaction: a refused
change leaves no delivery, a committed one cannot lose its deliveries.

Who gets what: a subscription belongs to an establishment (its own requests and sessions) or to a coordination
territory (a département, and one force or both: the requests and sessions there, the same rule as the
policies' `covers`). The body carries ids, statuses, dates with their time zone and the establishment, never a
person's name, e-mail or telephone, nor a report's remarks.

Signing (docs/webhooks.md): `Relais-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`,
with `Relais-Webhook-Timestamp` (Unix seconds at the attempt) and `Relais-Webhook-Id` (the delivery's id, the
same at every attempt and replay). The secret is kept encrypted with the Fernet keys of the CalDAV passwords
(`caldav_push.keys_from`: one mechanism, RELAIS_CALDAV_KEY).

The worker (`deliver_due`, run by `flask tick`) claims due rows like the e-mail outbox (SKIP LOCKED on
PostgreSQL, a conditional UPDATE everywhere), checks the address again (`check_url`: https only unless allowed,
no loopback, private, link-local, multicast, reserved, unique-local nor IPv4-mapped of those, after DNS
resolution), connects to the very address it checked (no second lookup: DNS rebinding) with the host's name
for TLS and Host, follows no redirect, waits 3 s to connect and 5 s for the answer. A failure is tried again
with exponential back-off and jitter, up to `max_attempts` over about a day, then the delivery is `failed`
(replayable from the page). After `pause_after` failed attempts in a row, the subscription is paused and
`deliver_due` returns it so that the job e-mails its owner.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from time import monotonic
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import urllib3
from cryptography.fernet import InvalidToken, MultiFernet
from flask_babel import lazy_gettext as _l
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.domain.claims import claim_rows
from app.domain.clock import utcnow
from app.domain.refusals import Refused
from app.models import (
    DeliveryStatus,
    Force,
    Intervention,
    InterventionRequest,
    Role,
    SessionReport,
    User,
    WebhookDelivery,
    WebhookSubscription,
)

log = logging.getLogger(__name__)

# The events, in the order the pages list them, with their label.
EVENTS = {
    "request.submitted": _l("Demande envoyée"),
    "request.accepted": _l("Demande acceptée"),
    "request.refused": _l("Demande refusée"),
    "request.cancelled": _l("Demande annulée"),
    "session.planned": _l("Intervention planifiée (horaire proposé aux formateurs)"),
    "session.confirmed": _l("Intervention confirmée"),
    "session.rescheduled": _l("Intervention déplacée"),
    "session.cancelled": _l("Intervention annulée"),
    "report.filed": _l("Compte rendu déposé"),
}
# The history's kinds (changes.record_event) → the event they are.
EVENT_OF_KIND = {
    "submitted": "request.submitted",
    "accepted": "request.accepted",
    "refused": "request.refused",
    "cancelled": "request.cancelled",
    "offered": "session.planned",
    "assigned": "session.planned",
    "session_confirmed": "session.confirmed",
    "rescheduled": "session.rescheduled",
    "session_cancelled": "session.cancelled",
    "report_filed": "report.filed",
}
_NOTED = "relais.webhook_events"

CLAIM_LEASE = timedelta(minutes=5)
BATCH = 20
BODY_KEPT = 2000  # characters of an answer's body kept in the log
HEADERS_KEPT = 2000
READ_AT_MOST = 64 * 1024  # bytes of an answer read at all
USER_AGENT = "Relais-Webhooks/1"

# Why an attempt got no answer, as the log says it.
ERRORS = {
    "address": _l("adresse refusée (https obligatoire, ou adresse privée ou locale)"),
    "dns": _l("nom d'hôte introuvable"),
    "timeout": _l("pas de réponse dans le délai"),
    "connection": _l("connexion impossible"),
    "tls": _l("certificat TLS refusé"),
    "key": _l("secret illisible (clé de chiffrement changée) : changez le secret"),
}


@dataclass(frozen=True)
class Settings:
    allow_http: bool = False
    allow_private: bool = False
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    max_attempts: int = 10
    pause_after: int = 10
    ca_certs: str | None = None  # a CA bundle (a closed network's own CA); None: the system's

    @classmethod
    def from_config(cls, config) -> Settings:
        return cls(allow_http=bool(config.get("RELAIS_WEBHOOKS_ALLOW_HTTP", False)),
                   allow_private=bool(config.get("RELAIS_WEBHOOKS_ALLOW_PRIVATE", False)),
                   connect_timeout=float(config.get("RELAIS_WEBHOOKS_CONNECT_TIMEOUT", 3)),
                   read_timeout=float(config.get("RELAIS_WEBHOOKS_READ_TIMEOUT", 5)),
                   max_attempts=int(config.get("RELAIS_WEBHOOKS_MAX_ATTEMPTS", 10)),
                   pause_after=int(config.get("RELAIS_WEBHOOKS_PAUSE_AFTER", 10)),
                   ca_certs=config.get("RELAIS_WEBHOOKS_CA_BUNDLE") or None)


# -- the address (SSRF) -------------------------------------------------------------------------------------------

Resolver = Callable[..., list]


def forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address Relais must not be made to call: anything but a public unicast one (loopback, private,
    link-local, shared, multicast, reserved, unspecified, unique-local IPv6), also inside IPv4-mapped, NAT64,
    6to4 and Teredo forms."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and forbidden_address(embedded):
            return True
    return (not address.is_global or address.is_multicast or address.is_loopback or address.is_link_local
            or address.is_private or address.is_reserved or address.is_unspecified)


def _parts(url: str, settings: Settings):
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise Refused("webhook_url_invalid") from error
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise Refused("webhook_url_invalid")
    if parts.scheme == "http" and not settings.allow_http:
        raise Refused("webhook_url_https")
    return parts, port or (443 if parts.scheme == "https" else 80)


def check_url(url: str, settings: Settings, resolve: Resolver = socket.getaddrinfo) -> str:
    """The address to connect to for this URL (its host resolved, every address checked), or `Refused`."""
    parts, port = _parts(url, settings)
    try:
        found = resolve(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:
        raise Refused("webhook_url_unknown_host") from error
    addresses = []
    for _family, _type, _proto, _name, sockaddr in found:
        try:
            addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
        except ValueError:
            continue
    if not addresses:
        raise Refused("webhook_url_unknown_host")
    # Every address the name gives must be allowed: the client must not pick a forbidden one among them.
    if not settings.allow_private and any(forbidden_address(address) for address in addresses):
        raise Refused("webhook_url_private")
    return str(addresses[0])


def clean_url(url: str, settings: Settings, resolve: Resolver = socket.getaddrinfo) -> str:
    """The URL as kept, checked now (at subscription time, the refusal goes next to the field)."""
    url = url.strip()
    if len(url) > 500:
        raise Refused("webhook_url_invalid")
    check_url(url, settings, resolve)
    return url


# -- signing ------------------------------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256, with the secret's UTF-8 bytes as key, of « timestamp.body »."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, headers, body: bytes, now: datetime, tolerance: int = 300) -> bool:
    """What a receiver does (docs/webhooks.md), used by the tests' receiver: the signature matches and the
    timestamp is within `tolerance` seconds of now."""
    try:
        timestamp = int(headers["Relais-Webhook-Timestamp"])
    except (KeyError, TypeError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    given = (headers.get("Relais-Webhook-Signature") or "").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in given)


def secret_of(subscription: WebhookSubscription, keys: MultiFernet) -> str:
    return keys.decrypt(subscription.secret_encrypted.encode()).decode()


# -- subscriptions ------------------------------------------------------------------------------------------------


def territory_scopes(user: User) -> list[tuple[str, Force | None]]:
    """The territories a coordinator may subscribe for: their scopes (an admin: none of their own, they manage
    those of everyone)."""
    return [(scope.departement_code, scope.force) for scope in user.scopes] if user.role is Role.COORDINATOR else []


def _clean_events(events: Sequence[str]) -> str:
    chosen = [name for name in EVENTS if name in set(events)]
    if not chosen:
        raise Refused("webhook_no_event")
    return ",".join(chosen)


def subscribe(session: Session, owner: User, url: str, events: Sequence[str], description: str | None,
              keys: MultiFernet, settings: Settings, now: datetime, *,
              territory: tuple[str, Force | None] | None = None, resolve: Resolver = socket.getaddrinfo
              ) -> WebhookSubscription:
    """A new subscription: for the owner's establishment (a requester), or for one of their territories."""
    if owner.role is Role.REQUESTER:
        if owner.establishment_id is None:
            raise Refused("webhook_no_owner")
        values: dict = {"establishment_id": owner.establishment_id}
    elif territory is not None and (owner.role is Role.ADMIN or territory in territory_scopes(owner)):
        values = {"departement_code": territory[0], "force": territory[1]}
    else:
        raise Refused("webhook_no_owner")
    subscription = WebhookSubscription(
        url=clean_url(url, settings, resolve), events=_clean_events(events), description=(description or "").strip()
        or None, owner_id=owner.id, secret_encrypted=keys.encrypt(new_secret().encode()).decode(), active=True,
        consecutive_failures=0, created_at=now, updated_at=now, **values)
    session.add(subscription)
    session.flush()
    return subscription


def edit(session: Session, subscription: WebhookSubscription, url: str, events: Sequence[str],
         description: str | None, settings: Settings, now: datetime, resolve: Resolver = socket.getaddrinfo) -> None:
    subscription.url = clean_url(url, settings, resolve)
    subscription.events = _clean_events(events)
    subscription.description = (description or "").strip() or None
    subscription.updated_at = now


def rotate_secret(subscription: WebhookSubscription, keys: MultiFernet, now: datetime) -> None:
    """A new secret, at once: the next attempts are signed with it."""
    subscription.secret_encrypted = keys.encrypt(new_secret().encode()).decode()
    subscription.updated_at = now


def pause(session: Session, subscription: WebhookSubscription, now: datetime) -> None:
    result = session.execute(update(WebhookSubscription).where(
        WebhookSubscription.id == subscription.id, WebhookSubscription.active)
        .values(active=False, paused_at=now, paused_for_failures=False, updated_at=now))
    if result.rowcount != 1:
        raise Refused("webhook_already_paused")
    session.refresh(subscription)


def resume(session: Session, subscription: WebhookSubscription, now: datetime) -> None:
    """Active again, its failure count at zero: the deliveries queued meanwhile go out at the next round."""
    result = session.execute(update(WebhookSubscription).where(
        WebhookSubscription.id == subscription.id, WebhookSubscription.active.is_(False))
        .values(active=True, paused_at=None, paused_for_failures=False, consecutive_failures=0, updated_at=now))
    if result.rowcount != 1:
        raise Refused("webhook_not_paused")
    session.execute(update(WebhookDelivery).where(
        WebhookDelivery.subscription_id == subscription.id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(next_attempt_at=now))
    session.refresh(subscription)


def unsubscribe(session: Session, subscription: WebhookSubscription) -> None:
    """Gone with its log (the deliveries go with it)."""
    session.delete(subscription)


def replay(session: Session, subscription: WebhookSubscription, delivery_id: int, now: datetime
           ) -> WebhookDelivery:
    """Sent again at the next round, with the same id and body (a receiver that kept the id may ignore it)."""
    result = session.execute(update(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == subscription.id,
        WebhookDelivery.status.in_([DeliveryStatus.DELIVERED, DeliveryStatus.FAILED]))
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now))
    if result.rowcount != 1:
        raise Refused("webhook_not_replayable")
    delivery = session.get(WebhookDelivery, delivery_id)
    session.refresh(delivery)
    return delivery


def deliveries(session: Session, subscription: WebhookSubscription, *, before: int | None = None, limit: int = 25
               ) -> Sequence[WebhookDelivery]:
    """The log, latest first, `limit + 1` rows from before the key (app.domain.keyset.cut makes the page)."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    return session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)).all()


# -- events → deliveries ------------------------------------------------------------------------------------------


def note_event(session: Session, kind: str, request: InterventionRequest, intervention: Intervention | None,
               now: datetime) -> None:
    """Called by `changes.record_event`: remembers, in the session, the event a history line is (if any)."""
    event = EVENT_OF_KIND.get(kind)
    if event is not None:
        session.info.setdefault(_NOTED, []).append((event, request.id, intervention.id if intervention else None,
                                                    now))


def forget_noted_events(session: Session) -> None:
    """A rolled back transaction: nothing noted in it counts."""
    session.info.pop(_NOTED, None)


# The events belong to the transaction that noted them, whoever commits it (a unit of work, nested or not, a job,
# the demo): queued at its commit, forgotten at its rollback.
@sqlalchemy_event.listens_for(Session, "before_commit")
def _queue_at_commit(session: Session) -> None:
    if session.info.get(_NOTED):
        queue_noted_events(session, utcnow())


@sqlalchemy_event.listens_for(Session, "after_rollback")
def _forget_at_rollback(session: Session) -> None:
    forget_noted_events(session)


def queue_noted_events(session: Session, now: datetime) -> int:
    """One delivery per (interested subscription, event noted), in the caller's transaction; the same event of
    the same object is queued once per transaction (two offers of one session are one "planned"). The
    subscriptions that may be interested are read once for the whole transaction (a plan of a thousand offers
    reads them in one statement, not one per offer)."""
    noted = session.info.pop(_NOTED, [])
    events: dict[tuple[str, int, int | None], datetime] = {}
    for event, request_id, intervention_id, at in noted:
        events.setdefault((event, request_id, intervention_id), at)
    requests = {request_id: session.get(InterventionRequest, request_id) for _, request_id, _ in events}
    found = _possible_subscribers(session, [request for request in requests.values() if request is not None])
    queued = 0
    for (event, request_id, intervention_id), at in events.items():
        request = requests[request_id]
        if request is None:
            continue
        intervention = session.get(Intervention, intervention_id) if intervention_id is not None else None
        for subscription in found:
            if not interested(subscription, event, request):
                continue
            delivery_id = str(uuid.uuid4())
            body = payload(session, delivery_id, event, at, request, intervention,
                           for_establishment=subscription.establishment_id is not None)
            session.add(WebhookDelivery(uuid=delivery_id, subscription_id=subscription.id, event=event, payload=body,
                                        occurred_at=at, created_at=now, status=DeliveryStatus.PENDING, attempts=0,
                                        next_attempt_at=now))
            queued += 1
    return queued


def _possible_subscribers(session: Session, requests: list[InterventionRequest]) -> Sequence[WebhookSubscription]:
    """The subscriptions of these requests' establishments and départements, in one statement (`interested`
    chooses among them)."""
    if not requests:
        return []
    return session.scalars(select(WebhookSubscription).where(or_(
        WebhookSubscription.establishment_id.in_({request.establishment_id for request in requests}),
        WebhookSubscription.departement_code.in_({request.departement_code for request in requests})))
        .order_by(WebhookSubscription.id)).all()


def interested(subscription: WebhookSubscription, event: str, request: InterventionRequest) -> bool:
    """Whether the subscription asked for this event and may see this request: its establishment's, or its
    territory's (both forces' while its force is undecided). Paused ones too: they get it when resumed."""
    if event not in subscription.event_names:
        return False
    if subscription.establishment_id is not None:
        return subscription.establishment_id == request.establishment_id
    return subscription.departement_code == request.departement_code and (
        request.force is None or subscription.force is None or subscription.force == request.force)


def _moment(value: datetime | None, zone: str) -> str | None:
    return value.astimezone(ZoneInfo(zone)).isoformat() if value is not None else None


def _label(value) -> str:
    return str.__str__(value) if isinstance(value, str) else str(value)


def payload(session: Session, delivery_id: str, event: str, occurred_at: datetime, request: InterventionRequest,
            intervention: Intervention | None, *, for_establishment: bool) -> str:
    """The JSON body: the delivery's id, the event, when, and the object (no person's details)."""
    establishment = request.establishment
    zone = establishment.timezone
    reason = request.refusal_reason if event == "request.refused" else (
        request.cancel_reason if event == "request.cancelled" else None)
    data: dict = {"request": {
        "id": request.id, "status": request.status.value, "departement": request.departement_code,
        "force": request.force.value if request.force else None, "groups": request.group_count,
        "submitted_at": _moment(request.submitted_at, zone),
        "establishment": {"id": establishment.id, "name": establishment.name, "uai": establishment.uai,
                          "commune": establishment.commune_name, "postcode": establishment.postcode},
        **({"reason": reason} if reason else {})}}
    if intervention is not None:
        data["session"] = {
            "id": intervention.id, "request_id": request.id, "group": _label(intervention.group_label),
            "status": intervention.status.value, "starts_at": _moment(intervention.starts_at, zone),
            "ends_at": _moment(intervention.ends_at, zone), "timezone": zone,
            "trainers_needed": intervention.trainers_needed,
            **({"reason": intervention.cancel_reason}
               if event == "session.cancelled" and intervention.cancel_reason else {})}
        if event == "report.filed" and not for_establishment:
            report = session.scalar(select(SessionReport).where(SessionReport.intervention_id == intervention.id)
                                    .order_by(SessionReport.id.desc()).limit(1))
            if report is not None:
                data["report"] = {"id": report.id, "held": report.held, "people_present": report.people_present,
                                  "not_held_code": report.not_held_code}
    body = {"id": delivery_id, "event": event, "occurred_at": occurred_at.astimezone(UTC).isoformat(),
            "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


# -- the worker ---------------------------------------------------------------------------------------------------


@dataclass
class Round:
    delivered: int = 0
    failed: int = 0
    paused: list[int] = field(default_factory=list)  # subscriptions paused this round: their owners are told


@dataclass(frozen=True)
class Claimed:
    id: int
    uuid: str
    subscription_id: int
    attempts: int
    payload: str


@dataclass(frozen=True)
class Answer:
    status: int | None = None
    headers: str | None = None
    body: str | None = None
    error: str | None = None
    duration_ms: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """2, 4, 8… minutes (×0.8–1.2, jitter), at most six hours: ten attempts span about a day."""
    base = min(2 ** attempts, 360) * 60
    return timedelta(seconds=base * (rng or random).uniform(0.8, 1.2))  # noqa: S311 (jitter, not secrecy)


def claim_due(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Due rows of active subscriptions, each claimed by a conditional UPDATE (SKIP LOCKED on PostgreSQL so that
    parallel workers take different ones), committed, with a lease (a worker that dies leaves them for later)."""
    query = (select(WebhookDelivery).join(WebhookSubscription,
                                          WebhookSubscription.id == WebhookDelivery.subscription_id)
             .where(WebhookDelivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
                    WebhookDelivery.next_attempt_at <= now, WebhookSubscription.active)
             .order_by(WebhookDelivery.id).limit(limit))
    return claim_rows(session, query, WebhookDelivery, now, CLAIM_LEASE, DeliveryStatus.SENDING,
                      lambda row: Claimed(row.id, row.uuid, row.subscription_id, row.attempts + 1, row.payload))


def post(url: str, address: str, body: bytes, headers: dict[str, str], settings: Settings) -> Answer:
    """One POST to the address checked, the URL's host name kept for TLS (SNI, certificate) and Host; no
    redirect followed, no retry here, short timeouts; the answer's start read."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    timeout = urllib3.Timeout(connect=settings.connect_timeout, read=settings.read_timeout)
    if parts.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=host, assert_hostname=host,
            cert_reqs="CERT_REQUIRED", ca_certs=settings.ca_certs)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    default_port = port == (443 if parts.scheme == "https" else 80)
    host_header = (f"[{host}]" if ":" in host else host) + ("" if default_port else f":{port}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = monotonic()
    try:
        response = pool.urlopen("POST", path, body=body, headers={**headers, "Host": host_header},
                                redirect=False, retries=False, preload_content=False, assert_same_host=False)
        try:
            content = response.read(READ_AT_MOST, decode_content=False)
        finally:
            response.release_conn()
    except urllib3.exceptions.SSLError:
        return Answer(error="tls", duration_ms=_elapsed(started))
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        return Answer(error="timeout", duration_ms=_elapsed(started))
    except (urllib3.exceptions.HTTPError, OSError):
        return Answer(error="connection", duration_ms=_elapsed(started))
    finally:
        pool.close()
    kept_headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())[:HEADERS_KEPT]
    return Answer(status=response.status, headers=kept_headers,
                  body=content.decode("utf-8", errors="replace")[:BODY_KEPT], duration_ms=_elapsed(started))


def _elapsed(started: float) -> int:
    return int((monotonic() - started) * 1000)


def attempt(row: Claimed, subscription: WebhookSubscription, keys: MultiFernet, settings: Settings, now: datetime,
            resolve: Resolver = socket.getaddrinfo) -> Answer:
    """One attempt: the secret read, the address checked again, the body signed now and posted."""
    try:
        secret = secret_of(subscription, keys)
    except InvalidToken:
        return Answer(error="key")
    try:
        address = check_url(subscription.url, settings, resolve)
    except Refused as refusal:
        return Answer(error="dns" if refusal.code == "webhook_url_unknown_host" else "address")
    body = row.payload.encode("utf-8")
    timestamp = int(now.timestamp())
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               "Relais-Webhook-Id": row.uuid, "Relais-Webhook-Timestamp": str(timestamp),
               "Relais-Webhook-Signature": signature(secret, timestamp, body)}
    return post(subscription.url, address, body, headers, settings)


def deliver_due(session: Session, now: datetime, keys: MultiFernet, settings: Settings, *, limit: int = 200,
                resolve: Resolver = socket.getaddrinfo) -> Round:
    """Sends up to `limit` due deliveries; each outcome committed as it comes."""
    outcome = Round()
    started = monotonic()
    while outcome.delivered + outcome.failed < limit:
        moment = now + timedelta(seconds=monotonic() - started)
        claimed = claim_due(session, moment, min(BATCH, limit - outcome.delivered - outcome.failed))
        if not claimed:
            break
        for row in claimed:
            subscription = session.get(WebhookSubscription, row.subscription_id)
            if subscription is None or not subscription.active:  # deleted or paused meanwhile
                session.execute(update(WebhookDelivery).where(WebhookDelivery.id == row.id).values(
                    status=DeliveryStatus.PENDING, attempts=row.attempts - 1, next_attempt_at=moment))
                session.commit()
                continue
            answer = attempt(row, subscription, keys, settings, moment, resolve)
            _record(session, row, answer, moment, settings, outcome)
            session.commit()
    return outcome


def _record(session: Session, row: Claimed, answer: Answer, now: datetime, settings: Settings, outcome: Round
            ) -> None:
    values: dict = {"last_attempt_at": now, "response_status": answer.status, "response_headers": answer.headers,
                    "response_body": answer.body, "error": answer.error, "duration_ms": answer.duration_ms}
    if answer.ok:
        values.update(status=DeliveryStatus.DELIVERED, delivered_at=now)
        outcome.delivered += 1
    elif row.attempts >= settings.max_attempts:
        values.update(status=DeliveryStatus.FAILED)
        outcome.failed += 1
    else:
        values.update(status=DeliveryStatus.PENDING, next_attempt_at=now + backoff(row.attempts))
        outcome.failed += 1
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == row.id,
                                                  WebhookDelivery.status == DeliveryStatus.SENDING).values(**values))
    if answer.ok:
        session.execute(update(WebhookSubscription).where(WebhookSubscription.id == row.subscription_id)
                        .values(consecutive_failures=0))
        return
    log.info("webhook delivery %s failed (attempt %s): %s", row.id, row.attempts, answer.status or answer.error)
    session.execute(update(WebhookSubscription).where(WebhookSubscription.id == row.subscription_id)
                    .values(consecutive_failures=WebhookSubscription.consecutive_failures + 1))
    paused = session.execute(update(WebhookSubscription).where(
        WebhookSubscription.id == row.subscription_id, WebhookSubscription.active,
        WebhookSubscription.consecutive_failures >= settings.pause_after)
        .values(active=False, paused_at=now, paused_for_failures=True))
    if paused.rowcount == 1:
        outcome.paused.append(row.subscription_id)


def error_text(code: str | None) -> str:
    return str(ERRORS.get(code or "", code or ""))
