"""Subscribable iCal feeds: unguessable revocable tokens, what each subscriber sees, and fast builds.

A feed lists confirmed sessions (and those recently cancelled, as STATUS:CANCELLED) in a window of
past and future dates. Building one never re-serializes a session that has not changed: each
session's VEVENT is kept per reader variant and language in `calendar_entry`, keyed by a version computed from
the session's row and the format of events (`calendar.EVENT_FORMAT`), and the feed is spliced from those texts.
A feed is written in its owner's language (`FeedSource.language`): a person's own, an establishment's French
unless all its members read English. A conditional request is answered from
the same cheap row query, without building anything.

A feed's address may carry filters (force, départements, days back and ahead: `FeedFilters`, read by
`read_filters`): they narrow what the owner's policy lets them see, never widen it, and are part of the
fingerprint. Google Agenda refuses subscribed calendars over about 1 MB (`SIZE_LIMIT`): `estimated_size` says
what a feed would weigh, and `offered_filters` chooses the address "Mon agenda" offers so that it stays under.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from app.domain.calendar import (
    COORDINATION,
    ESTABLISHMENT,
    EVENT_FORMAT,
    TRAINER,
    Organizer,
    add_timezones,
    assemble_feed,
    new_calendar,
    session_event,
)
from app.domain.policies import SESSIONS
from app.models import (
    Assignment,
    AssignmentStatus,
    CalendarEntry,
    CalendarFeed,
    Departement,
    Establishment,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    Role,
    Trainer,
    User,
)
from app.models.base import insert_for

PAST_WINDOW = timedelta(days=90)
FUTURE_WINDOW = timedelta(days=400)
CANCELLED_KEPT = timedelta(days=30)
REFRESH = timedelta(hours=1)
SHOWN = (InterventionStatus.OFFERED, InterventionStatus.CONFIRMED, InterventionStatus.DONE)
ENDED = (InterventionStatus.CANCELLED, InterventionStatus.NOT_HELD)
TRAINER_CANCELLED = "formateur-annule"  # a trainer withdrawn from a session that goes on without them


# -- tokens ------------------------------------------------------------------------------------------


def feed_token(secret_key: str, nonce: str) -> str:
    """The URL's secret: 256 bits, derived from a random nonce so that the page can show it again."""
    digest = hmac.new(secret_key.encode(), f"relais-feed:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _renew(feed: CalendarFeed, secret_key: str) -> None:
    feed.nonce = secrets.token_hex(16)  # 128 random bits
    feed.token_hash = token_hash(feed_token(secret_key, feed.nonce))


def feed_of(session: Session, secret_key: str, *, user: User | None = None,
            establishment: Establishment | None = None) -> CalendarFeed:
    """The owner's feed, created on first use."""
    query = select(CalendarFeed).where(CalendarFeed.user_id == user.id if user is not None
                                       else CalendarFeed.establishment_id == establishment.id)
    feed = session.scalar(query)
    if feed is None:
        feed = CalendarFeed(user_id=user.id if user else None,
                            establishment_id=establishment.id if establishment else None)
        _renew(feed, secret_key)
        session.add(feed)
        session.flush()
    elif feed.token_hash != token_hash(feed_token(secret_key, feed.nonce)):
        # The application's key was rotated: the old address is dead, the one shown now must work.
        feed.token_hash = token_hash(feed_token(secret_key, feed.nonce))
        session.flush()
    return feed


def reset_feed(feed: CalendarFeed, secret_key: str, now: datetime) -> None:
    """A new token: the old URL stops working at once."""
    _renew(feed, secret_key)
    feed.reset_at = now


def reset_all_feeds(session: Session, secret_key: str, now: datetime) -> int:
    feeds = session.scalars(select(CalendarFeed)).all()
    for feed in feeds:
        reset_feed(feed, secret_key, now)
    return len(feeds)


def find_feed(session: Session, token: str) -> CalendarFeed | None:
    return session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token)))


# -- what each subscriber sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class FeedRow:
    intervention_id: int
    updated_at: datetime
    sequence: int
    variant: str


# -- filters in the feed's address ---------------------------------------------------------------------------

FORCE_PARAMETER, DEPARTEMENT_PARAMETER = "force", "departement"
DAYS_BACK_PARAMETER, DAYS_AHEAD_PARAMETER = "jours_passes", "jours_a_venir"
FILTER_PARAMETERS = (FORCE_PARAMETER, DEPARTEMENT_PARAMETER, DAYS_BACK_PARAMETER, DAYS_AHEAD_PARAMETER)


class FeedFilterError(ValueError):
    """A feed's address with a filter that means nothing; `message` says which, in French (never the value)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class FeedFilters:
    """What part of the owner's sessions a feed shows: a force, some départements (none: all those the owner
    sees), and a window of days back and ahead (at most the default one). Only ever ANDed to the owner's rows."""

    force: Force | None = None
    departements: tuple[str, ...] = ()
    days_back: int = PAST_WINDOW.days
    days_ahead: int = FUTURE_WINDOW.days

    @property
    def narrows_territory(self) -> bool:
        return self.force is not None or bool(self.departements)

    def key(self) -> str:
        """Part of the fingerprint: two addresses of one owner with other filters have other ETags."""
        force = self.force.value if self.force else ""
        return f"{force}|{','.join(self.departements)}|{self.days_back}|{self.days_ahead}"

    def parameters(self) -> list[tuple[str, str]]:
        """The query parameters of the feed's address (only those that differ from the default)."""
        found: list[tuple[str, str]] = []
        if self.force is not None:
            found.append((FORCE_PARAMETER, self.force.value))
        found += [(DEPARTEMENT_PARAMETER, code) for code in self.departements]
        if self.days_back != PAST_WINDOW.days:
            found.append((DAYS_BACK_PARAMETER, str(self.days_back)))
        if self.days_ahead != FUTURE_WINDOW.days:
            found.append((DAYS_AHEAD_PARAMETER, str(self.days_ahead)))
        return found

    def apply(self, query: Select, now: datetime) -> Select:
        query = query.where(Intervention.starts_at >= now - timedelta(days=self.days_back),
                            Intervention.starts_at < now + timedelta(days=self.days_ahead))
        if self.force is not None:
            query = query.where(Intervention.force == self.force)
        if self.departements:
            query = query.where(Intervention.departement_code.in_(self.departements))
        return query


ALL = FeedFilters()


def _one(values: list[str], message) -> str | None:
    values = [value.strip() for value in values if value.strip()]
    if len(values) > 1:
        raise FeedFilterError(message)
    return values[0] if values else None


def _days(values: list[str], low: int, high: int, message) -> int | None:
    text = _one(values, message)
    if text is None:
        return None
    if not text.isdecimal() or not low <= int(text) <= high:
        raise FeedFilterError(message)
    return int(text)


def read_filters(arguments: Mapping[str, list[str]]) -> FeedFilters:
    """The filters of a feed's address (each parameter with its values, as in `?departement=69&departement=01`);
    other parameters are ignored (some calendar applications add their own). Raises FeedFilterError."""
    unknown_force = _l("Filtre de force inconnu : « police » ou « gendarmerie », une seule fois.")
    force_text = _one(arguments.get(FORCE_PARAMETER, []), unknown_force)
    force = None
    if force_text is not None:
        try:
            force = Force(force_text)
        except ValueError:
            raise FeedFilterError(unknown_force) from None
    known = _departement_codes()
    codes = sorted({code.strip().upper() for code in arguments.get(DEPARTEMENT_PARAMETER, []) if code.strip()})
    if any(code not in known for code in codes):
        raise FeedFilterError(_l("Département inconnu dans l'adresse de l'agenda : indiquez son code (69, 2A, "
                                    "974…)."))
    days_back = _days(arguments.get(DAYS_BACK_PARAMETER, []), 0, PAST_WINDOW.days,
                      _l("Jours passés : un nombre entier de 0 à %(most)s.", most=PAST_WINDOW.days))
    days_ahead = _days(arguments.get(DAYS_AHEAD_PARAMETER, []), 1, FUTURE_WINDOW.days,
                       _l("Jours à venir : un nombre entier de 1 à %(most)s.", most=FUTURE_WINDOW.days))
    return FeedFilters(force, tuple(codes), PAST_WINDOW.days if days_back is None else days_back,
                       FUTURE_WINDOW.days if days_ahead is None else days_ahead)


def _departement_codes() -> frozenset[str]:
    from app.domain.reference import departements_by_code

    return frozenset(departements_by_code())


def _dates(query: Select, now: datetime, filters: FeedFilters = ALL) -> Select:
    """Sessions once confirmed (calendars knew them), within the window of dates and the address's filters."""
    return filters.apply(query, now).where(Intervention.confirmed_at.is_not(None))


def _window(query: Select, now: datetime, filters: FeedFilters = ALL) -> Select:
    return _dates(query, now, filters).where(
        or_(Intervention.status.in_(SHOWN),
            and_(Intervention.status.in_(ENDED), Intervention.updated_at >= now - CANCELLED_KEPT)))


def _columns():
    return (Intervention.id, Intervention.updated_at, Intervention.ical_sequence)


def trainer_rows(session: Session, trainer_id: int, now: datetime, filters: FeedFilters = ALL) -> list[FeedRow]:
    """Sessions the trainer accepted; one they were withdrawn from shows as cancelled for a while."""
    query = _dates(select(*_columns(), Intervention.status, Assignment.status, Assignment.answered_at)
                   .join(Assignment, Assignment.intervention_id == Intervention.id)
                   .where(Assignment.trainer_id == trainer_id, Assignment.accepted_at.is_not(None)), now, filters)
    rows: dict[int, FeedRow] = {}
    for intervention_id, updated_at, sequence, session_status, status, answered_at in session.execute(query):
        if status is AssignmentStatus.ACCEPTED and session_status in SHOWN:
            rows[intervention_id] = FeedRow(intervention_id, updated_at, sequence, TRAINER)
        elif intervention_id not in rows and answered_at is not None and answered_at >= now - CANCELLED_KEPT:
            rows[intervention_id] = FeedRow(intervention_id, max(updated_at, answered_at), sequence,
                                            TRAINER_CANCELLED)
    return sorted(rows.values(), key=lambda r: r.intervention_id)


def establishment_rows(session: Session, establishment_id: int, now: datetime, filters: FeedFilters = ALL
                       ) -> list[FeedRow]:
    query = _window(select(*_columns()).join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
                    .where(InterventionRequest.establishment_id == establishment_id), now, filters)
    return [FeedRow(i, u, s, ESTABLISHMENT) for i, u, s in session.execute(query.order_by(Intervention.id))]


def scope_rows(session: Session, scope_condition, now: datetime, filters: FeedFilters = ALL) -> list[FeedRow]:
    """A coordinator's scope (or everything for an admin), with the coordination's view."""
    query = _window(select(*_columns()).where(scope_condition), now, filters)
    return [FeedRow(i, u, s, COORDINATION) for i, u, s in session.execute(query.order_by(Intervention.id))]


@dataclass(frozen=True)
class Fingerprint:
    """What a conditional request is answered from, without reading the feed's rows."""

    etag: str
    last_modified: datetime | None
    count: int = 0  # how many sessions the feed holds (its size is estimated from it)


def _aggregate(session: Session, query: Select, salt: str) -> Fingerprint:
    """One aggregate over the feed's sessions: it changes when one changes, enters or leaves."""
    count, modified, sequences, ids = session.execute(query.with_only_columns(
        func.count(Intervention.id), func.max(Intervention.updated_at),
        func.coalesce(func.sum(Intervention.ical_sequence), 0), func.coalesce(func.sum(Intervention.id), 0))).one()
    digest = hashlib.sha256(f"{salt}|{count}|{modified}|{sequences}|{ids}".encode()).hexdigest()[:32]
    return Fingerprint(digest, modified, count)


def establishment_fingerprint(session: Session, establishment_id: int, now: datetime, salt: str,
                              filters: FeedFilters = ALL) -> Fingerprint:
    return _aggregate(session, _window(select(Intervention.id).join(
        InterventionRequest, InterventionRequest.id == Intervention.request_id)
        .where(InterventionRequest.establishment_id == establishment_id), now, filters), salt)


def scope_fingerprint(session: Session, scope_condition, now: datetime, salt: str,
                      filters: FeedFilters = ALL) -> Fingerprint:
    """A national feed holds 10,000 sessions: its 304 must not read them one by one."""
    return _aggregate(session, _window(select(Intervention.id).where(scope_condition), now, filters), salt)


def rows_fingerprint(rows: Sequence[FeedRow], salt: str) -> Fingerprint:
    """For a short feed (a trainer's), from its rows already read."""
    return Fingerprint(feed_etag(rows, salt), last_modified(rows, None), len(rows))


@dataclass
class FeedSource:
    """What a feed shows: its name, its fingerprint (for a conditional request) and, built only when needed,
    its rows."""

    name: str
    fingerprint: Fingerprint
    rows: Callable[[], list[FeedRow]]
    variant: str = COORDINATION
    # The owner's zone, for the VTIMEZONE of a feed with no session (RFC 5545 wants a component in a calendar).
    zone: Callable[[], str] = field(default=lambda: DEFAULT_ZONE)
    language: str = "fr"  # what its texts are written in: the owner's language


DEFAULT_ZONE = "Europe/Paris"
DEFAULT_LANGUAGE = "fr"  # the service's


def user_language(user: User) -> str:
    return user.language or DEFAULT_LANGUAGE


def establishment_language(session: Session, establishment_id: int) -> str:
    """An establishment's feed is one address its whole staff shares (and often the school's own calendar): it is
    written in French, the service's language, unless every active member reads English. Not « its first
    member's »: one person's choice would turn everybody's calendar to another language, and back when they leave."""
    languages = set(session.scalars(select(User.language).where(
        User.establishment_id == establishment_id, User.active, User.role == Role.REQUESTER).distinct()))
    return languages.pop() if len(languages) == 1 and None not in languages else DEFAULT_LANGUAGE


def _zone_of(session: Session, codes: Iterable[str]) -> str:
    """The zone of the first of these départements (by code), Paris when there is none."""
    codes = sorted(set(codes))
    if not codes:
        return DEFAULT_ZONE
    return session.scalar(select(Departement.timezone).where(Departement.code.in_(codes))
                          .order_by(Departement.code).limit(1)) or DEFAULT_ZONE


def _filtered_name(name: str, filters: FeedFilters) -> str:
    """A feed narrowed to a territory says so in its name: two subscriptions of one person are told apart."""
    if not filters.narrows_territory:
        return name
    parts = list(filters.departements)
    if filters.force is not None:
        parts.append("police" if filters.force is Force.POLICE else "gendarmerie")
    return f"{name} ({', '.join(parts)})"


def feed_source(session: Session, feed: CalendarFeed, now: datetime, salt: str, filters: FeedFilters = ALL
                ) -> FeedSource | None:
    """The feed's content, computed without reading its sessions one by one; None when its owner may no longer
    see anything (an account deactivated, a trainer record gone or deactivated). `salt`: what every event also
    depends on (the public address, the sender). `filters` only narrow what the owner sees."""
    # The day too: the window of dates moves every day; the filters: each address has its own tags; the language:
    # a feed read in English is another text than in French.
    salt = f"{salt}|{now.date().isoformat()}|{filters.key()}"
    if feed.establishment_id is not None:
        establishment = feed.establishment
        language = establishment_language(session, establishment.id)
        salt = f"{salt}|{language}"
        return FeedSource(_filtered_name(f"Relais — {establishment.name}", filters),
                          establishment_fingerprint(session, establishment.id, now, salt, filters),
                          lambda: establishment_rows(session, establishment.id, now, filters), ESTABLISHMENT,
                          lambda: establishment.timezone, language)
    user = feed.user
    if user is None or not user.active:
        return None
    language = user_language(user)
    salt = f"{salt}|{language}"
    if user.role is Role.TRAINER:
        trainer = session.scalar(select(Trainer).where(Trainer.user_id == user.id))
        if trainer is None or not trainer.active:  # a trainer set inactive (transfer…) keeps no schedule
            return None
        rows = trainer_rows(session, trainer.id, now, filters)  # a trainer's feed is short: read once
        with force_locale(language):
            name = _filtered_name(_("Relais — mes interventions"), filters)
        return FeedSource(name, rows_fingerprint(rows, salt), lambda: rows, TRAINER,
                          lambda: _zone_of(session, filters.departements or [d.code for d in trainer.departements]),
                          language)
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        with force_locale(language):
            name = _filtered_name(_("Relais — toutes les interventions") if user.role is Role.ADMIN else
                                  _("Relais — coordination %(departements)s",
                                    departements=", ".join(s.departement_code for s in user.scopes)), filters)
        scope = SESSIONS.rows(user)
        return FeedSource(name, scope_fingerprint(session, scope, now, f"{salt}|{name}", filters),
                          lambda: scope_rows(session, scope, now, filters), COORDINATION,
                          lambda: _zone_of(session, filters.departements or [s.departement_code
                                                                             for s in user.scopes]), language)
    return None


# -- how big a feed is ----------------------------------------------------------------------------------------

SIZE_LIMIT = 1_000_000  # Google Agenda refuses a subscribed calendar over about 1 MB
TYPICAL_EVENT_BYTES = 1_900  # a session's VEVENT, when none of the variant is kept yet (measured on the demo)
HEAD_BYTES = 3_000  # the calendar's head and its VTIMEZONEs
SAMPLE = 200


def typical_event_bytes(session: Session, variant: str) -> int:
    """The mean size of the kept VEVENTs of a variant, over a sample (one short query)."""
    sample = (select(func.length(CalendarEntry.vevent).label("size"))
              .where(CalendarEntry.variant == variant).limit(SAMPLE).subquery())
    mean = session.scalar(select(func.avg(sample.c.size)))
    return round(float(mean) * 1.05) if mean else TYPICAL_EVENT_BYTES  # characters to bytes: accents take two


def estimated_size(count: int, event_bytes: int) -> int:
    return HEAD_BYTES + count * event_bytes


# Shorter periods tried, in order, when one département is still too big (days back, days ahead).
SHORTER_PERIODS = ((30, 180), (14, 90), (7, 30))


def _scope_counts(session: Session, scope_condition, now: datetime, filters: FeedFilters) -> dict[str, int]:
    query = _window(select(Intervention.departement_code, func.count(Intervention.id)).where(scope_condition),
                    now, filters).group_by(Intervention.departement_code)
    return dict(session.execute(query).all())


def offered_filters(session: Session, user: User, now: datetime, event_bytes: int, count: int) -> FeedFilters:
    """The address "Mon agenda" offers first: every session the owner sees when that stays under SIZE_LIMIT
    (`count`: how many that is); else, for a coordination, the département with the most sessions that fits
    alone; else that département, or the whole feed, over a shorter period."""
    if estimated_size(count, event_bytes) <= SIZE_LIMIT:
        return ALL
    fits = SIZE_LIMIT // event_bytes - HEAD_BYTES // event_bytes
    base = ALL
    counts: dict[str, int] = {}
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        counts = _scope_counts(session, SESSIONS.rows(user), now, ALL)
        by_size = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        for code, found in by_size:
            if found <= fits:
                return FeedFilters(departements=(code,))
        if len(by_size) > 1:  # the biggest département, over a shorter period
            base = FeedFilters(departements=(by_size[0][0],))
    for days_back, days_ahead in SHORTER_PERIODS:
        shorter = FeedFilters(base.force, base.departements, days_back, days_ahead)
        if feed_count(session, user, now, shorter) <= fits:
            return shorter
    return shorter


def feed_count(session: Session, user: User, now: datetime, filters: FeedFilters) -> int:
    """How many sessions a person's feed holds with these filters (one aggregate)."""
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        return sum(_scope_counts(session, SESSIONS.rows(user), now, filters).values())
    if user.role is Role.REQUESTER:
        if user.establishment_id is None:
            return 0
        query = _window(select(func.count(Intervention.id)).join(
            InterventionRequest, InterventionRequest.id == Intervention.request_id)
            .where(InterventionRequest.establishment_id == user.establishment_id), now, filters)
        return session.scalar(query) or 0
    trainer = session.scalar(select(Trainer).where(Trainer.user_id == user.id))
    return len(trainer_rows(session, trainer.id, now, filters)) if trainer is not None else 0


def feed_etag(rows: Sequence[FeedRow], salt: str) -> str:
    """Changes whenever a session of the feed changes, enters or leaves it."""
    digest = hashlib.sha256(salt.encode())
    for row in rows:
        digest.update(f"{row.intervention_id}:{row.sequence}:{row.updated_at.isoformat()}:{row.variant};".encode())
    return digest.hexdigest()[:32]


def last_modified(rows: Sequence[FeedRow], default: datetime | None) -> datetime | None:
    return max((row.updated_at for row in rows), default=default)


# -- building ------------------------------------------------------------------------------------------


UrlFor = Callable[[Intervention, str], str]
OrganizerFor = Callable[[Intervention], Organizer]


def refresh_events_of_trainers(session: Session, trainer_ids: Iterable[int], now: datetime) -> int:
    """A trainer's name, rank or e-mail changed: every event that names them must say it anew."""
    ids = list(trainer_ids)
    if not ids:
        return 0
    return _refresh_events(session, select(Assignment.intervention_id).where(
        Assignment.trainer_id.in_(ids), Assignment.status == AssignmentStatus.ACCEPTED), now)


def refresh_events_of_establishment(session: Session, establishment_id: int, now: datetime) -> int:
    """An establishment's name or address changed: its sessions' events say where anew."""
    return _refresh_events(session, select(Intervention.id).join(InterventionRequest).where(
        InterventionRequest.establishment_id == establishment_id), now)


def refresh_events_of_territory(session: Session, departement_code: str, force, now: datetime) -> int:
    """The coordination's address of a territory changed: its sessions' events name their organizer anew."""
    return _refresh_events(session, select(Intervention.id).where(
        Intervention.departement_code == departement_code, Intervention.force == force), now)


def _refresh_events(session: Session, intervention_ids: Select, now: datetime) -> int:
    """Those sessions still in calendars are marked modified now, so that feeds rebuild their VEVENTs (the kept
    ones are keyed on the modification) and stop answering 304. The SEQUENCE stays: no reschedule."""
    return session.execute(
        update(Intervention)
        .where(Intervention.id.in_(intervention_ids), Intervention.confirmed_at.is_not(None),
               Intervention.starts_at >= now - PAST_WINDOW)
        .values(updated_at=now).execution_options(synchronize_session=False)).rowcount


def _entry_version(row: FeedRow, salt: str) -> str:
    """What a kept VEVENT depends on: the session's change, the reader, the salt, and how events are written
    (`EVENT_FORMAT`: raised by a deployment that writes them otherwise, it rebuilds every kept one)."""
    key = f"{EVENT_FORMAT}|{row.sequence}|{row.updated_at.isoformat()}|{row.variant}|{salt}"
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def _load(session: Session, ids: Iterable[int]) -> dict[int, Intervention]:
    request_of = selectinload(Intervention.request)
    return {i.id: i for i in session.scalars(
        select(Intervention).where(Intervention.id.in_(list(ids))).options(
            request_of.selectinload(InterventionRequest.establishment),
            request_of.selectinload(InterventionRequest.topics),
            request_of.selectinload(InterventionRequest.audiences),
            request_of.selectinload(InterventionRequest.created_by),
            selectinload(Intervention.assignments).selectinload(Assignment.trainer).selectinload(Trainer.user)))}


def _vevent_text(intervention: Intervention, row: FeedRow, url_for: UrlFor, organizer_for: OrganizerFor) -> str:
    variant = TRAINER if row.variant == TRAINER_CANCELLED else row.variant
    status = "CANCELLED" if row.variant == TRAINER_CANCELLED else None
    # DTSTAMP is the last change, not now: an unchanged session serializes to the same text.
    event = session_event(intervention, variant=variant, url=url_for(intervention, variant),
                          organizer=organizer_for(intervention), stamp=row.updated_at, status=status)
    return event.to_ical().decode("utf-8")


def _store(session: Session, values: list[dict]) -> None:
    """Insert or replace cache entries in one statement (two feeds built at once do not collide)."""
    if not values:
        return
    statement = insert_for(session)(CalendarEntry).values(values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[CalendarEntry.intervention_id, CalendarEntry.variant, CalendarEntry.language],
        set_={"version": statement.excluded.version, "vevent": statement.excluded.vevent}))


BATCH = 2000


def build_feed(session: Session, rows: Sequence[FeedRow], *, name: str, salt: str, url_for: UrlFor,
               organizer_for: OrganizerFor, zone: str = DEFAULT_ZONE, language: str = DEFAULT_LANGUAGE
               ) -> tuple[bytes, int]:
    """The feed's bytes, and how many VEVENTs had to be (re)built; the caller commits the cache. With no session,
    the calendar holds the VTIMEZONE of `zone` (the owner's): RFC 5545 wants at least one component. The events
    are written in `language` (the owner's) and kept under it."""
    with force_locale(language):
        return _build_feed(session, rows, name=name, salt=salt, url_for=url_for, organizer_for=organizer_for,
                           zone=zone, language=language)


def _build_feed(session: Session, rows: Sequence[FeedRow], *, name: str, salt: str, url_for: UrlFor,
                organizer_for: OrganizerFor, zone: str, language: str) -> tuple[bytes, int]:
    texts: dict[tuple[int, str], str] = {}
    built = 0
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        wanted = {(row.intervention_id, row.variant): _entry_version(row, salt) for row in batch}
        cached = session.execute(select(CalendarEntry.intervention_id, CalendarEntry.variant, CalendarEntry.version,
                                        CalendarEntry.vevent)
                                 .where(CalendarEntry.intervention_id.in_({r.intervention_id for r in batch}),
                                        CalendarEntry.language == language))
        for intervention_id, variant, version, vevent in cached:
            if wanted.get((intervention_id, variant)) == version:
                texts[(intervention_id, variant)] = vevent
        missing = [row for row in batch if (row.intervention_id, row.variant) not in texts]
        if missing:
            loaded = _load(session, {row.intervention_id for row in missing})
            values = []
            for row in missing:
                text = _vevent_text(loaded[row.intervention_id], row, url_for, organizer_for)
                texts[(row.intervention_id, row.variant)] = text
                values.append({"intervention_id": row.intervention_id, "variant": row.variant,
                               "language": language, "version": wanted[(row.intervention_id, row.variant)],
                               "vevent": text})
            _store(session, values)
            built += len(missing)
    zones, years = _zones_and_years(session, rows)
    head = new_calendar(name=name, refresh=REFRESH)
    add_timezones(head, zones or {zone}, years)
    return assemble_feed(head, (texts[(row.intervention_id, row.variant)] for row in rows)), built


def _zones_and_years(session: Session, rows: Sequence[FeedRow]) -> tuple[set[str], set[int]]:
    """The VTIMEZONEs the events need, from one aggregate query."""
    if not rows:
        return set(), set()
    zones: set[str] = set()
    years: set[int] = set()
    ids = [row.intervention_id for row in rows]
    for start in range(0, len(ids), BATCH):
        result = session.execute(
            select(Departement.timezone, func.min(Intervention.starts_at), func.max(Intervention.starts_at))
            .join(Intervention, Intervention.departement_code == Departement.code)
            .where(Intervention.id.in_(ids[start:start + BATCH])).group_by(Departement.timezone))
        for zone, first, last in result:
            zones.add(zone)
            years.update({first.year, last.year})
    return zones, years

