"""Sessions written into a person's own CalDAV calendar (Nextcloud, SOGo, Zimbra, BlueMind…), #19.

A trainer (or an establishment's contact) connects a calendar from « Mon agenda »: `connect` checks the address,
the credentials and the calendar at once (a `Refused` in plain French otherwise) and keeps the application
password encrypted (Fernet, key from the configuration). From then on, every calendar invitation Relais writes
to that person also queues a write to their calendar (`enqueue_push`, called by app.invitations): a PUT of the
session (same UID as the invitations, resource `<uid>.ics`) or, when it is cancelled or they are withdrawn, a
DELETE. There is one queue row per (calendar, session): a newer change replaces a pending one.

`push_due` is the worker (`flask tick`): it claims due rows like the e-mail outbox (SKIP LOCKED on PostgreSQL, a
conditional UPDATE everywhere), writes each with the `caldav` library and records the outcome. Writes are
conditional: If-Match with the ETag the server gave for Relais's last copy, so that an event the person changed
in their calendar is never overwritten silently (412: the row waits, the page says so and offers to replace it).
A server down or slow: retried with back-off, nothing lost, nothing doubled. Credentials refused or calendar
deleted on the server: the connection stops until the person connects again; the changes wait.

The copy written carries no METHOD (a calendar resource must not, RFC 4791 §4.1) and no ORGANIZER or ATTENDEE:
on a server with scheduling (RFC 6638) those would make the server send invitations or replies of its own; the
e-mailed invitations do that job. The password is never logged nor shown again.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic
from urllib.parse import quote, urljoin, urlsplit

import caldav
from caldav.elements import dav
from caldav.lib import error as dav_error
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask_babel import lazy_gettext as _l
from icalendar import Calendar
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.domain.claims import claim_rows
from app.domain.refusals import Refused
from app.models import (
    Assignment,
    AssignmentStatus,
    CalendarConnection,
    CalendarPush,
    ConnectionState,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    PushAction,
    PushStatus,
    Role,
    Trainer,
    User,
)
from app.models.base import insert_for

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15
CLAIM_LEASE = timedelta(minutes=10)
BATCH = 20
ROLES = (Role.TRAINER, Role.REQUESTER)  # the people Relais sends invitations to

# Why the last write failed, as the page says it (the connection keeps the code).
ERRORS = {
    "unreachable": _l("Le serveur de votre agenda ne répond pas : Relais réessaiera plus tard, rien n'est perdu."),
    "server_error": _l("Le serveur de votre agenda a renvoyé une erreur : Relais réessaiera plus tard, rien n'est "
                       "perdu."),
    "credentials": _l("Le serveur de votre agenda refuse l'identifiant ou le mot de passe d'application (changé ou "
                      "révoqué ?) : connectez-le à nouveau. Les changements attendent."),
    "calendar_gone": _l("L'agenda choisi n'existe plus sur le serveur (supprimé ?) : connectez-en un autre. Les "
                        "changements attendent."),
    "conflict": _l("Une intervention a été modifiée dans votre agenda depuis que Relais l'y a inscrite : Relais ne "
                   "l'a pas remplacée. Voyez ci-dessous."),
    "refused": _l("Le serveur de votre agenda a refusé d'enregistrer une intervention. Voyez ci-dessous."),
    "key": _l("Le mot de passe d'application enregistré ne peut plus être lu (clé de chiffrement changée) : "
              "connectez votre agenda à nouveau."),
}


# The key


def cipher(configured_keys: str | None, secret_key: str) -> MultiFernet:
    """The Fernet keys of RELAIS_CALDAV_KEY (comma-separated: the first encrypts, all decrypt, for a rotation), or
    one derived from SECRET_KEY when none is configured."""
    keys = [key.strip() for key in (configured_keys or "").split(",") if key.strip()] or [derived_key(secret_key)]
    return MultiFernet([Fernet(key) for key in keys])


def derived_key(secret_key: str) -> str:
    """The Fernet key derived from SECRET_KEY, when RELAIS_CALDAV_KEY gives none."""
    digest = hashlib.sha256(b"relais-caldav-password|" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def keys_from(config) -> MultiFernet:
    """The cipher of an application's configuration (a mapping: the domain reads no Flask)."""
    return cipher(config.get("RELAIS_CALDAV_KEY"), config["SECRET_KEY"])


# Connecting


@dataclass(frozen=True)
class FoundCalendar:
    url: str
    name: str


def check_address(server_url: str, *, allow_http: bool) -> str:
    """The address as given, if it can be a CalDAV server's: http(s), a host, no credentials in it. Unless allowed
    (development, tests, a closed network: RELAIS_CALDAV_ALLOW_HTTP), https only, and never this machine nor a
    link-local address (a cloud's metadata service): the server must not be made to call itself for someone."""
    url = server_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise Refused("caldav_address")
    if not allow_http and parts.scheme == "http":
        raise Refused("caldav_https")
    if not allow_http and _this_machine(parts.hostname):
        raise Refused("caldav_address")
    return url


def _this_machine(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_link_local or address.is_unspecified


def _client(url: str, username: str, password: str, timeout: float) -> caldav.DAVClient:
    # Basic authentication at once (application passwords, over https): no unauthenticated probe first.
    return caldav.DAVClient(url=url, username=username, password=password, timeout=timeout, auth_type="basic",
                            enable_rfc6764=False)


def find_calendar(server_url: str, username: str, password: str, timeout: float = TIMEOUT_SECONDS
                  ) -> FoundCalendar:
    """The calendar at that address (a calendar's own address), or the person's first calendar (the server's or
    their principal's address). Refused with a plain reason otherwise."""
    client = _client(server_url, username, password, timeout)
    try:
        given = client.calendar(url=server_url)
        properties = given.get_properties([dav.DisplayName(), dav.ResourceType()])
        kinds = properties.get(dav.ResourceType.tag) or []
        if "{urn:ietf:params:xml:ns:caldav}calendar" in kinds:
            return FoundCalendar(str(given.url), properties.get(dav.DisplayName.tag) or _default_name(given.url))
        calendars = client.principal().calendars()
        if not calendars:
            raise Refused("caldav_no_calendar")
        first = calendars[0]
        return FoundCalendar(str(first.url), first.get_display_name() or _default_name(first.url))
    except dav_error.AuthorizationError as error:
        raise Refused("caldav_credentials") from error
    except dav_error.NotFoundError as error:
        raise Refused("caldav_no_calendar") from error
    except dav_error.DAVError as error:
        raise Refused("caldav_not_caldav") from error
    except OSError as error:  # refused, unknown host, timeout, TLS (niquests' errors are OSErrors)
        raise Refused("caldav_unreachable") from error
    except ValueError as error:  # an answer that is no WebDAV (an HTML page…)
        raise Refused("caldav_not_caldav") from error


def _default_name(url) -> str:
    return str(url).rstrip("/").rsplit("/", 1)[-1] or str(url)


def connect(session: Session, user: User, server_url: str, username: str, password: str, keys: MultiFernet,
            now: datetime, *, allow_http: bool = False, timeout: float = TIMEOUT_SECONDS) -> CalendarConnection:
    """Checks the calendar, then keeps the connection (replacing the person's previous one). The changes waiting
    for a broken connection go out again; a different calendar starts afresh."""
    if user.role not in ROLES:
        raise Refused("caldav_not_invited")
    url = check_address(server_url, allow_http=allow_http)
    username = username.strip()
    found = find_calendar(url, username, password, timeout)
    connection = connection_of(session, user)
    if connection is None:
        connection = CalendarConnection(user_id=user.id, created_at=now)
        session.add(connection)
    elif connection.calendar_url != found.url:
        session.execute(delete(CalendarPush).where(CalendarPush.connection_id == connection.id))
        connection.created_at = now
        connection.last_success_at = None
    connection.server_url = url
    connection.username = username
    connection.password_encrypted = keys.encrypt(password.encode()).decode()
    connection.calendar_url = found.url
    connection.calendar_name = found.name[:200]
    connection.state = ConnectionState.ACTIVE
    connection.last_error = None
    connection.last_error_at = None
    session.flush()
    session.execute(update(CalendarPush).where(
        CalendarPush.connection_id == connection.id,
        CalendarPush.status.in_([PushStatus.PENDING, PushStatus.SENDING])).values(next_attempt_at=now))
    return connection


def disconnect(session: Session, user: User) -> bool:
    """Forgets the connection, its password and its queue (the events already written stay in the calendar)."""
    connection = connection_of(session, user)
    if connection is None:
        return False
    session.execute(delete(CalendarPush).where(CalendarPush.connection_id == connection.id))
    session.delete(connection)
    return True


def connection_of(session: Session, user: User) -> CalendarConnection | None:
    return session.scalar(select(CalendarConnection).where(CalendarConnection.user_id == user.id))


def sessions_to_push(session: Session, user: User, now: datetime) -> Sequence[Intervention]:
    """The coming confirmed sessions the person is invited to: a trainer's accepted ones, a requester's as the
    contact of their requests. Written to a calendar just connected."""
    query = select(Intervention).where(Intervention.status == InterventionStatus.CONFIRMED,
                                       Intervention.ends_at >= now)
    if user.role is Role.TRAINER:
        query = query.join(Assignment, Assignment.intervention_id == Intervention.id).join(
            Trainer, Trainer.id == Assignment.trainer_id).where(
            Trainer.user_id == user.id, Assignment.status == AssignmentStatus.ACCEPTED)
    elif user.role is Role.REQUESTER:
        query = query.join(InterventionRequest, InterventionRequest.id == Intervention.request_id).where(
            InterventionRequest.created_by_id == user.id,
            (InterventionRequest.contact_email.is_(None)) | (InterventionRequest.contact_email == user.email))
    else:
        return []
    return session.scalars(query.order_by(Intervention.starts_at)).all()


def problems(session: Session, connection: CalendarConnection) -> Sequence[CalendarPush]:
    """The sessions Relais could not write: changed in the calendar (conflict) or refused by the server."""
    return session.scalars(select(CalendarPush).where(
        CalendarPush.connection_id == connection.id,
        CalendarPush.status.in_([PushStatus.CONFLICT, PushStatus.FAILED])).order_by(CalendarPush.id)).all()


def pending_count(session: Session, connection: CalendarConnection) -> int:
    return session.scalar(select(func.count(CalendarPush.id)).where(
        CalendarPush.connection_id == connection.id,
        CalendarPush.status.in_([PushStatus.PENDING, PushStatus.SENDING]))) or 0


def force(session: Session, user: User, push_id: int, now: datetime) -> CalendarPush:
    """The person chose Relais's version of a session they had changed in their calendar: the next write replaces
    it (no If-Match)."""
    row = session.scalar(select(CalendarPush).join(CalendarConnection).where(
        CalendarPush.id == push_id, CalendarConnection.user_id == user.id,
        CalendarPush.status.in_([PushStatus.CONFLICT, PushStatus.FAILED])))
    if row is None:
        raise Refused("caldav_nothing_to_force")
    row.forced = True
    row.status = PushStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.last_error = None
    row.updated_at = now
    return row


# Queueing


def personal_copy(calendar_text: str) -> str:
    """The event as a calendar resource: no METHOD, no ORGANIZER nor ATTENDEE (see the module's note)."""
    calendar = Calendar.from_ical(calendar_text)
    calendar.pop("METHOD", None)
    for event in calendar.walk("VEVENT"):
        event.pop("ORGANIZER", None)
        event.pop("ATTENDEE", None)
    return calendar.to_ical().decode("utf-8")


def enqueue_push(session: Session, recipient: User | str, intervention: Intervention, calendar_text: str | None,
                 method: str, now: datetime) -> bool:
    """Queues the session's new state for the calendar of the person invited (an account, or an address that is an
    account's), if they connected one: PUT for REQUEST, DELETE for CANCEL. The text may be the invitation's (its
    METHOD is dropped). A row waiting for the same session is replaced (its version goes up), never doubled."""
    query = select(CalendarConnection.id)
    if isinstance(recipient, User):
        query = query.where(CalendarConnection.user_id == recipient.id)
    else:
        query = query.join(User, User.id == CalendarConnection.user_id).where(User.email == recipient.strip().lower())
    connection_id = session.scalar(query)
    if connection_id is None:
        return False
    action = PushAction.DELETE if method == "CANCEL" else PushAction.PUT
    text = personal_copy(calendar_text) if action is PushAction.PUT and calendar_text else None
    if action is PushAction.PUT and text is None:
        raise ValueError("a PUT needs the session's calendar")
    insert = insert_for(session)(CalendarPush).values(
        connection_id=connection_id, intervention_id=intervention.id, uid=intervention.ical_uid, action=action,
        calendar=text, status=PushStatus.PENDING, version=1, attempts=0, next_attempt_at=now, forced=False,
        updated_at=now)
    session.execute(insert.on_conflict_do_update(
        index_elements=[CalendarPush.connection_id, CalendarPush.intervention_id],
        set_={"action": action, "calendar": text, "uid": intervention.ical_uid, "status": PushStatus.PENDING,
              "version": CalendarPush.version + 1, "attempts": 0, "next_attempt_at": now, "updated_at": now,
              "last_error": None}))
    return True


# The worker


@dataclass
class Round:
    written: int = 0
    failed: int = 0


def _backoff(attempts: int) -> timedelta:
    """1, 2, 4… minutes, at most six hours between tries: a server down for days still gets the changes."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


@dataclass(frozen=True)
class Claimed:
    id: int
    connection_id: int
    version: int
    attempts: int
    action: PushAction
    uid: str
    calendar: str | None
    etag: str | None
    href: str | None
    forced: bool


def claim_due(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Rows due for writing, of connections that work, each claimed by a conditional UPDATE (SKIP LOCKED on
    PostgreSQL so that parallel workers take different ones); committed, with a lease."""
    query = (select(CalendarPush).join(CalendarConnection, CalendarConnection.id == CalendarPush.connection_id)
             .where(CalendarPush.status.in_([PushStatus.PENDING, PushStatus.SENDING]),
                    CalendarPush.next_attempt_at <= now, CalendarConnection.state == ConnectionState.ACTIVE)
             .order_by(CalendarPush.id).limit(limit))
    return claim_rows(session, query, CalendarPush, now, CLAIM_LEASE, PushStatus.SENDING,
                      lambda row: Claimed(row.id, row.connection_id, row.version, row.attempts + 1, row.action,
                                          row.uid, row.calendar, row.etag, row.href, row.forced),
                      unchanged=("status", "version", "attempts"))


class _Stop(Exception):  # noqa: N818 (a connection that cannot be written to this round)
    def __init__(self, code: str, broken: bool = False):
        super().__init__(code)
        self.code = code
        self.broken = broken


class _Rejected(Exception):  # noqa: N818 (the server refused this one event for good)
    def __init__(self, code: str, detail: str):
        super().__init__(code)
        self.code = code
        self.detail = detail


def resource_url(calendar_url: str, uid: str) -> str:
    base = calendar_url if calendar_url.endswith("/") else calendar_url + "/"
    return urljoin(base, quote(uid, safe="@-._~") + ".ics")


def _calendar_gone(calendar: caldav.Calendar) -> bool:
    try:
        calendar.get_properties([dav.ResourceType()])
    except dav_error.NotFoundError:
        return True
    except dav_error.DAVError:
        return False
    return False


def _write(client: caldav.DAVClient, calendar: caldav.Calendar, row: Claimed) -> tuple[str | None, str | None]:
    """One write; returns (etag, href) of the copy now on the server (None, None after a DELETE)."""
    url = row.href or resource_url(str(calendar.url), row.uid)
    event = caldav.Event(client=client, url=url, parent=calendar)
    conditional = row.etag is not None and not row.forced
    if row.action is PushAction.DELETE:
        if conditional:
            try:
                event.delete(if_match=row.etag)
            except dav_error.NotFoundError:
                pass  # already gone: deleted by the person, or by an earlier attempt whose answer was lost
        else:
            event.delete()
        return None, None
    if conditional:
        event.props[dav.GetEtag.tag] = row.etag
    event.save(raw_data=row.calendar.encode("utf-8"), precondition="etag", increase_seqno=False)
    etag = event.etag
    if etag is None or etag.startswith("W/"):
        # The server changed the event while storing it (RFC 4791 §5.3.4): its ETag is read back.
        try:
            etag = caldav.Event(client=client, url=event.url, parent=calendar).load().etag
        except dav_error.DAVError:
            etag = None
    return etag, str(event.url)


def _classify(error: Exception, calendar: caldav.Calendar) -> Exception:
    """What a failed write means: for the connection (_Stop), or for this event alone (_Rejected)."""
    if isinstance(error, dav_error.AuthorizationError):
        return _Stop("credentials", broken=True)
    if isinstance(error, OSError):
        return _Stop("unreachable")
    status = getattr(error, "status", None)
    if isinstance(error, dav_error.DAVError) and status in (404, 409, 410):
        if _calendar_gone(calendar):
            return _Stop("calendar_gone", broken=True)
        return _Rejected("refused", str(error))
    if isinstance(error, dav_error.DAVError) and status is not None and 400 <= status < 500:
        return _Rejected("refused", str(error))
    return _Stop("server_error")


def push_due(session: Session, now: datetime, keys: MultiFernet, *, limit: int = 200,
             timeout: float = TIMEOUT_SECONDS) -> Round:
    """Writes up to `limit` due changes to their calendars; each outcome is committed as it comes. Rows are claimed
    twenty at a time, each batch at the moment it is claimed (its lease starts then, however long the round)."""
    outcome = Round()
    stopped: dict[int, _Stop] = {}
    clients: dict[int, tuple[caldav.DAVClient, caldav.Calendar]] = {}
    succeeded: set[int] = set()  # connections whose last success is already this round's
    started = monotonic()
    while outcome.written + outcome.failed < limit:
        moment = now + timedelta(seconds=monotonic() - started)
        claimed = claim_due(session, moment, min(BATCH, limit - outcome.written - outcome.failed))
        if not claimed:
            break
        for row in claimed:
            if row.connection_id in stopped:
                _release(session, row, moment, stopped[row.connection_id])
                outcome.failed += 1
                continue
            try:
                if row.connection_id not in clients:
                    connection = session.get(CalendarConnection, row.connection_id)
                    if connection is None:  # disconnected meanwhile: its rows went with it
                        continue
                    clients[row.connection_id] = _open(connection, keys, timeout)
                client, calendar = clients[row.connection_id]
                try:
                    etag, href = _write(client, calendar, row)
                except (dav_error.ETagMismatchError, dav_error.ScheduleTagMismatchError):
                    raise  # a conflict: for this row, below
                except (OSError, dav_error.DAVError) as error:
                    raise _classify(error, calendar) from error
            except _Stop as stop:
                stopped[row.connection_id] = stop
                _release(session, row, moment, stop)
                _connection_error(session, row.connection_id, stop.code, moment, broken=stop.broken)
                log.warning("CalDAV push %s (connection %s): %s", row.id, row.connection_id, stop.code)
                outcome.failed += 1
            except _Rejected as rejected:
                _finish(session, row, moment, PushStatus.FAILED, error=rejected.detail[:2000])
                _connection_error(session, row.connection_id, rejected.code, moment)
                log.warning("CalDAV push %s refused by the server: %s", row.id, rejected.detail[:300])
                outcome.failed += 1
            except (dav_error.ETagMismatchError, dav_error.ScheduleTagMismatchError):
                _finish(session, row, moment, PushStatus.CONFLICT,
                        error="412: changed in the calendar since Relais wrote it")
                _connection_error(session, row.connection_id, "conflict", moment)
                log.info("CalDAV push %s: changed in the calendar, not overwritten", row.id)
                outcome.failed += 1
            else:
                _finish(session, row, moment, PushStatus.DONE, etag=etag, href=href)
                if row.connection_id not in succeeded:
                    succeeded.add(row.connection_id)
                    session.execute(update(CalendarConnection).where(CalendarConnection.id == row.connection_id)
                                    .values(last_success_at=now))
                outcome.written += 1
            session.commit()
    return outcome


def _open(connection: CalendarConnection, keys: MultiFernet, timeout: float
          ) -> tuple[caldav.DAVClient, caldav.Calendar]:
    try:
        password = keys.decrypt(connection.password_encrypted.encode()).decode()
    except InvalidToken as error:
        raise _Stop("key", broken=True) from error
    client = _client(connection.calendar_url, connection.username, password, timeout)
    return client, client.calendar(url=connection.calendar_url)


def _release(session: Session, row: Claimed, now: datetime, stop: _Stop) -> None:
    """Back in the queue: later with back-off, or when the person connects again (a broken connection)."""
    wait = timedelta(0) if stop.broken else _backoff(row.attempts)
    session.execute(update(CalendarPush).where(CalendarPush.id == row.id, CalendarPush.version == row.version)
                    .values(status=PushStatus.PENDING, next_attempt_at=now + wait, last_error=stop.code))


def _finish(session: Session, row: Claimed, now: datetime, status: PushStatus, *, etag: str | None = None,
            href: str | None = None, error: str | None = None) -> None:
    """The outcome, for the version written; a change queued meanwhile stays pending (and is written next with the
    ETag just received). One UPDATE in the usual case."""
    done = status is PushStatus.DONE
    values: dict = {"status": status, "last_error": error, "forced": False if done else row.forced,
                    "done_at": now if done else None, "attempts": 0 if done else row.attempts}
    if done:
        values.update(etag=etag, href=href)
    recorded = session.execute(update(CalendarPush).where(CalendarPush.id == row.id,
                                                          CalendarPush.version == row.version).values(**values))
    if done and recorded.rowcount == 0:
        session.execute(update(CalendarPush).where(CalendarPush.id == row.id).values(etag=etag, href=href))


def _connection_error(session: Session, connection_id: int, code: str, now: datetime, *, broken: bool = False
                      ) -> None:
    values: dict = {"last_error": code, "last_error_at": now}
    if broken:
        values["state"] = ConnectionState.BROKEN
    session.execute(update(CalendarConnection).where(CalendarConnection.id == connection_id).values(**values))


def error_message(code: str | None) -> str:
    return str(ERRORS.get(code or "", ERRORS["server_error"])) if code else ""
