"""Calendars: personal feed URLs (subscribe once, stay up to date), single-event downloads, exports."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app.access import authorize, permission, public
from app.calendars import bp
from app.calendars.forms import ExportForm, ResetForm
from app.domain import feeds
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


def feed_urls(feed: CalendarFeed) -> tuple[str, str]:
    token = feeds.feed_token(_secret(), feed.nonce)
    https = current_app.config["RELAIS_BASE_URL"].rstrip("/") + url_for("calendars.feed", token=token)
    return https, "webcal://" + https.split("://", 1)[1]


@bp.route("/")
@permission("feed", "view")
def mine():
    feed = _own_feed()
    if feed is None:
        abort(404)
    if written_tables(db.session):
        db.session.commit()  # a feed created on first visit (a visit that wrote nothing keeps its objects loaded)
    https, webcal = feed_urls(feed)
    return render_template("calendars/mine.html", feed=feed, https_url=https, webcal_url=webcal,
                           reset_form=ResetForm(), reset_all_form=ResetForm(prefix="tous"))


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
    now = utcnow()
    source = feeds.feed_source(db.session, found, now, calendar_salt()) if found is not None else None
    if source is None:
        abort(404)
    etag = source.fingerprint.etag
    modified = source.fingerprint.last_modified or found.created_at
    if etag in request.if_none_match or (not request.if_none_match and request.if_modified_since is not None
                                         and modified.replace(microsecond=0) <= request.if_modified_since):
        response = Response(status=304)
    else:
        body, built = feeds.build_feed(db.session, source.rows(), name=source.name, salt=calendar_salt(),
                                       url_for=session_url, organizer_for=organizer_for)
        if built:
            db.session.commit()  # the events it serialized, kept for the next build (no e-mail, no refusal)
        response = calendar_response(body, "relais.ics", attachment=False)
    response.set_etag(etag)
    response.last_modified = modified
    response.headers["Cache-Control"] = "private, max-age=300"
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
    """"Add to my calendar": the one session as an .ics file."""
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
    if form.format.data in SPREADSHEETS:
        write, content_type = SPREADSHEETS[form.format.data]
        response = Response(write(interventions), content_type=content_type)
        response.headers["Content-Disposition"] = f'attachment; filename="relais-interventions.{form.format.data}"'
        return response
    body = export_ics(interventions, name="Relais — export", url_for=session_url, organizer_for=organizer_for,
                      now=utcnow(), variant=COORDINATION)
    return calendar_response(body, "relais-interventions.ics", attachment=True)

