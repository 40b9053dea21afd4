"""Calendars: personal feed URLs (subscribe once, stay up to date), single-event downloads, exports."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app.access import authorize, permission, public
from app.calendars import bp
from app.calendars.forms import ExportForm, ResetForm
from app.domain import audit, feeds
from app.domain.calendar import COORDINATION, ESTABLISHMENT, TRAINER
from app.domain.clock import utcnow
from app.domain.exports import ExportFilters, export_csv, export_ics, export_xlsx, sessions_for_export
from app.domain.imports.tables import XLSX_MIMETYPE
from app.domain.policies import ESTABLISHMENTS, SESSIONS, departements_of
from app.domain.writes import written_tables
from app.extensions import db, limiter
from app.formatting import plural_choice
from app.invitations import event_calendar, organizer_for, session_url
from app.models import CalendarFeed, Establishment, Force, Intervention, Role
from app.unit_of_work import run


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def calendar_salt() -> str:
    """What every cached event also depends on: the public address and the sender."""
    return f"{current_app.config['RELAIS_BASE_URL']}|{current_app.config['MAIL_DEFAULT_SENDER']}"


def calendar_response(body: bytes | str, filename: str, *, attachment: bool) -> Response:
    """An iCalendar answer: its type, charset and file name, the same for a feed, a session and an export."""
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def _own_feed() -> CalendarFeed | None:
    if current_user.role is Role.REQUESTER:
        if current_user.establishment is None:
            return None
        return feeds.feed_of(db.session, _secret(), establishment=current_user.establishment)
    return feeds.feed_of(db.session, _secret(), user=current_user)


def feed_urls(feed: CalendarFeed, filters: feeds.FeedFilters = feeds.ALL) -> tuple[str, str]:
    token = feeds.feed_token(_secret(), feed.nonce)
    https = current_app.config["RELAIS_BASE_URL"].rstrip("/") + url_for("calendars.feed", token=token)
    if filters.parameters():
        https += "?" + urlencode(filters.parameters())
    return https, "webcal://" + https.split("://", 1)[1]


@dataclass(frozen=True)
class FeedChoice:
    """The feed "Mon agenda" shows: its filters (chosen in the form, or offered), how many sessions it holds and
    what it would weigh; `error` when the form's values mean nothing."""

    filters: feeds.FeedFilters
    chosen: bool
    count: int
    size: int
    error: str | None = None

    @property
    def too_big(self) -> bool:
        return self.size > feeds.SIZE_LIMIT

    @property
    def kilobytes(self) -> int:
        return max(1, round(self.size / 1000))


def _feed_choice(feed: CalendarFeed) -> FeedChoice:
    """What the filters of the form ask for, else the address offered (under 1 MB), with its estimated size."""
    now = utcnow()
    source = feeds.feed_source(db.session, feed, now, calendar_salt())
    if source is None:
        return FeedChoice(feeds.ALL, False, 0, feeds.estimated_size(0, 0))
    event_bytes = feeds.typical_event_bytes(db.session, source.variant)
    error = None
    chosen = any(name in request.args for name in feeds.FILTER_PARAMETERS)
    filters = feeds.ALL
    if chosen:
        try:
            filters = feeds.read_filters(request.args.to_dict(flat=False))
        except feeds.FeedFilterError as refused:
            error, chosen = str(refused.message), False
    if not chosen:
        filters = feeds.offered_filters(db.session, current_user, now, event_bytes, source.fingerprint.count)
    count = (source.fingerprint.count if filters == feeds.ALL
             else feeds.feed_count(db.session, current_user, now, filters))
    return FeedChoice(filters, chosen, count, feeds.estimated_size(count, event_bytes), error)


# The names of the filters in the feed's address, for the form of "Mon agenda" (which asks with the same ones).
FILTER_NAMES = {"force": feeds.FORCE_PARAMETER, "departement": feeds.DEPARTEMENT_PARAMETER,
                "days_back": feeds.DAYS_BACK_PARAMETER, "days_ahead": feeds.DAYS_AHEAD_PARAMETER,
                "most_back": feeds.PAST_WINDOW.days, "most_ahead": feeds.FUTURE_WINDOW.days}


def _force_choices() -> list[tuple[str, str]]:
    """The forces the person's feed may be narrowed to: those of their scope (both for an admin)."""
    forces = [Force.POLICE, Force.GENDARMERIE]
    if current_user.role is Role.COORDINATOR and all(scope.force is not None for scope in current_user.scopes):
        forces = [force for force in forces if any(scope.force is force for scope in current_user.scopes)]
    labels = {Force.POLICE: _("Police nationale"), Force.GENDARMERIE: _("Gendarmerie nationale")}
    return [(force.value, labels[force]) for force in forces]


@bp.route("/")
@permission("feed", "view")
def mine():
    feed = _own_feed()
    if feed is None:
        abort(404)
    if written_tables(db.session):
        db.session.commit()  # a feed created on first visit (a visit that wrote nothing keeps its objects loaded)
    choice = _feed_choice(feed)
    https, webcal = feed_urls(feed, choice.filters)
    coordination = current_user.role in (Role.COORDINATOR, Role.ADMIN)
    page = render_template("calendars/mine.html", feed=feed, https_url=https, webcal_url=webcal, choice=choice,
                           size_limit_mb=feeds.SIZE_LIMIT / 1_000_000, parameters=FILTER_NAMES,
                           departements=departements_of(db.session, current_user) if coordination else [],
                           forces=_force_choices() if coordination else [],
                           reset_form=ResetForm(), reset_all_form=ResetForm(prefix="tous"))
    return page, 400 if choice.error else 200


@bp.route("/reinitialiser", methods=["POST"])
@permission("feed", "reset")
def reset():
    if not ResetForm().validate_on_submit():
        abort(400)
    feed = _own_feed()
    if feed is None:
        abort(404)
    run(lambda: feeds.reset_feed(feed, _secret(), utcnow()))
    flash(_("Nouvelle adresse créée : l'ancienne ne fonctionne plus. Abonnez vos agendas à la nouvelle."), "success")
    return redirect(url_for("calendars.mine"))


@bp.route("/tous/reinitialiser", methods=["POST"])
@permission("feed", "reset_all")
def reset_all():
    if not ResetForm(prefix="tous").validate_on_submit():
        abort(400)
    count = run(lambda: feeds.reset_all_feeds(db.session, _secret(), utcnow())).value
    flash(ngettext("%(count)s adresse d'agenda remplacée : l'ancienne ne fonctionne plus.",
                   "%(count)s adresses d'agenda remplacées : les anciennes ne fonctionnent plus.",
                   plural_choice(count), count=count), "success")
    return redirect(url_for("calendars.mine"))


@bp.route("/flux/<token>.ics")
@public
@limiter.limit("120 per minute")
def feed(token: str):
    """The subscribed feed: no log-in, the token is the key; 304 when nothing changed."""
    found = feeds.find_feed(db.session, token)
    if found is None:
        abort(404)
    try:
        filters = feeds.read_filters(request.args.to_dict(flat=False))
    except feeds.FeedFilterError as refused:
        response = Response(str(refused.message), status=400, mimetype="text/plain")
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
        return response
    now = utcnow()
    source = feeds.feed_source(db.session, found, now, calendar_salt(), filters)
    if source is None:
        abort(404)
    etag = source.fingerprint.etag
    modified = source.fingerprint.last_modified or found.created_at
    # If-None-Match is compared weakly (RFC 9110 §13.1.2): a proxy may have made the tag W/"…".
    if request.if_none_match.contains_weak(etag) or (
            not request.if_none_match and request.if_modified_since is not None
            and modified.replace(microsecond=0) <= request.if_modified_since):
        response = Response(status=304)
    else:
        body, built = feeds.build_feed(db.session, source.rows(), name=source.name, salt=calendar_salt(),
                                       url_for=session_url, organizer_for=organizer_for, zone=source.zone(),
                                       language=source.language)  # the owner's, whoever fetches it
        if built:
            db.session.commit()  # the events it serialized, kept for the next build (no e-mail, no refusal)
        response = calendar_response(body, "relais.ics", attachment=False)
    # The same validators and caching headers on the 200 and the 304 (RFC 9110 §15.4.5), Vary included: whether
    # Flask adds Cookie must not depend on which path read the session.
    response.set_etag(etag)
    response.last_modified = modified
    response.headers["Cache-Control"] = "private, max-age=300"
    response.vary.add("Cookie")
    return response


def _variant_for(intervention: Intervention) -> str:
    """Which view of the session the current person may download (404 when none)."""
    authorize("session", "view", intervention)
    if current_user.role in (Role.COORDINATOR, Role.ADMIN):
        return COORDINATION
    return ESTABLISHMENT if current_user.role is Role.REQUESTER else TRAINER


@bp.route("/interventions/<int:intervention_id>.ics")
@permission("session", "view")
def session_ics(intervention_id: int):
    """"Add to my calendar": the one session as an .ics file, in the language of the page."""
    intervention = db.session.get(Intervention, intervention_id)
    if intervention is None or intervention.starts_at is None:
        abort(404)
    variant = _variant_for(intervention)
    return calendar_response(event_calendar(intervention, variant), f"intervention-{intervention.id}.ics",
                             attachment=True)


def _export_choices(form: ExportForm) -> None:
    form.departement.choices = [("", _("Tous ceux de mon périmètre"))] + departements_of(db.session, current_user)
    establishments = db.session.execute(
        select(Establishment.id, Establishment.name, Establishment.commune_name)
        .where(ESTABLISHMENTS.rows(current_user)).order_by(Establishment.name)).all()
    form.establishment.choices = [("", _("Tous"))] + [(str(i), f"{n} ({c})") for i, n, c in establishments]


def _record_export(count: int) -> None:
    """The schedule with its contacts: a read of personal data in bulk (#21)."""
    run(lambda: audit.record_read(db.session, "sessions_export", audit.scope_text(request.args), count))


# The schedule as a spreadsheet: how each format is written, and its type.
SPREADSHEETS = {"csv": (export_csv, "text/csv; charset=utf-8"), "xlsx": (export_xlsx, XLSX_MIMETYPE)}


@bp.route("/export")
@permission("export", "sessions")
def export():
    """The schedule of the scope as .ics, CSV or Excel, filtered."""
    form = ExportForm(request.args if request.args else None)
    _export_choices(form)
    if not request.args.get("format"):
        return render_template("calendars/export.html", form=form)
    if not form.validate():
        return render_template("calendars/export.html", form=form), 400
    filters = ExportFilters(
        date_from=form.date_from.data, date_to=form.date_to.data, departement_code=form.departement.data or None,
        force=Force(form.force.data) if form.force.data else None, trainer_matricule=form.trainer.data or None,
        establishment_id=int(form.establishment.data) if form.establishment.data else None,
        statuses=tuple(form.statuses.data))
    interventions = sessions_for_export(db.session, filters, SESSIONS.rows(current_user))
    count = len(interventions)
    if form.format.data in SPREADSHEETS:
        write, content_type = SPREADSHEETS[form.format.data]
        response = Response(write(interventions), content_type=content_type)
        response.headers["Content-Disposition"] = f'attachment; filename="relais-interventions.{form.format.data}"'
        _record_export(count)
        return response
    # In the language of the page, like the download of one session.
    body = export_ics(interventions, name=_("Relais — export"), url_for=session_url, organizer_for=organizer_for,
                      now=utcnow(), variant=COORDINATION)
    _record_export(count)
    return calendar_response(body, "relais-interventions.ics", attachment=True)

