"""Calendars: personal feed URLs (subscribe once, stay up to date), single-event downloads, exports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.access import covers, public, role_required
from app.calendars import bp
from app.calendars.forms import ExportForm, ResetForm
from app.domain import feeds
from app.domain.calendar import COORDINATION, ESTABLISHMENT, TRAINER
from app.domain.clock import utcnow
from app.domain.exports import ExportFilters, export_csv, export_ics, sessions_for_export
from app.domain.writes import written_tables
from app.extensions import db, limiter
from app.invitations import event_calendar, organizer_for, session_url
from app.models import (
    Assignment,
    AssignmentStatus,
    CalendarFeed,
    Establishment,
    Force,
    Intervention,
    Role,
    Trainer,
)
from app.scoping import departements_of, intervention_scope_condition

ALL_ROLES = (Role.TRAINER, Role.REQUESTER, Role.COORDINATOR, Role.ADMIN)


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _salt() -> str:
    """What every cached event also depends on: the public address and the sender."""
    return f"{current_app.config['RELAIS_BASE_URL']}|{current_app.config['MAIL_DEFAULT_SENDER']}"


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
@role_required(*ALL_ROLES)
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
@role_required(*ALL_ROLES)
def reset():
    if not ResetForm().validate_on_submit():
        abort(400)
    feed = _own_feed()
    if feed is None:
        abort(404)
    feeds.reset_feed(feed, _secret(), utcnow())
    db.session.commit()
    flash(_("Nouvelle adresse créée : l'ancienne ne fonctionne plus. Abonnez vos agendas à la nouvelle."), "success")
    return redirect(url_for("calendars.mine"))


@bp.route("/tous/reinitialiser", methods=["POST"])
@role_required(Role.ADMIN)
def reset_all():
    if not ResetForm(prefix="tous").validate_on_submit():
        abort(400)
    count = feeds.reset_all_feeds(db.session, _secret(), utcnow())
    db.session.commit()
    flash(_("%(count)s adresse(s) d'agenda remplacée(s) : les anciennes ne fonctionnent plus.", count=count),
          "success")
    return redirect(url_for("calendars.mine"))


@dataclass
class _Source:
    name: str
    fingerprint: feeds.Fingerprint
    rows: Callable[[], list[feeds.FeedRow]]


def _source(feed: CalendarFeed, now) -> _Source | None:
    """What the feed shows, and its fingerprint: computed without reading its sessions one by one."""
    salt = f"{_salt()}|{now.date().isoformat()}"  # the day too: the window of dates moves every day
    if feed.establishment_id is not None:
        establishment = feed.establishment
        return _Source(f"Relais — {establishment.name}",
                       feeds.establishment_fingerprint(db.session, establishment.id, now, salt),
                       lambda: feeds.establishment_rows(db.session, establishment.id, now))
    user = feed.user
    if user is None or not user.active:
        return None
    if user.role is Role.TRAINER:
        trainer = db.session.scalar(select(Trainer).where(Trainer.user_id == user.id))
        if trainer is None:
            return None
        rows = feeds.trainer_rows(db.session, trainer.id, now)  # a trainer's feed is short: read once
        return _Source("Relais — mes interventions", feeds.rows_fingerprint(rows, salt), lambda: rows)
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        name = ("Relais — toutes les interventions" if user.role is Role.ADMIN else
                "Relais — coordination " + ", ".join(s.departement_code for s in user.scopes))
        scope = intervention_scope_condition(user)
        return _Source(name, feeds.scope_fingerprint(db.session, scope, now, f"{salt}|{name}"),
                       lambda: feeds.scope_rows(db.session, scope, now))
    return None


@bp.route("/flux/<token>.ics")
@public
@limiter.limit("120 per minute")
def feed(token: str):
    """The subscribed feed: no log-in, the token is the key; 304 when nothing changed."""
    found = feeds.find_feed(db.session, token)
    now = utcnow()
    source = _source(found, now) if found is not None else None
    if source is None:
        abort(404)
    etag = source.fingerprint.etag
    modified = source.fingerprint.last_modified or found.created_at
    if etag in request.if_none_match or (not request.if_none_match and request.if_modified_since is not None
                                         and modified.replace(microsecond=0) <= request.if_modified_since):
        response = Response(status=304)
    else:
        body, built = feeds.build_feed(db.session, source.rows(), name=source.name, salt=_salt(),
                                       url_for=session_url, organizer_for=organizer_for)
        if built:
            db.session.commit()
        response = Response(body, mimetype="text/calendar")
        response.headers["Content-Type"] = "text/calendar; charset=utf-8"
        response.headers["Content-Disposition"] = 'inline; filename="relais.ics"'
    response.set_etag(etag)
    response.last_modified = modified
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _variant_for(intervention: Intervention) -> str:
    """Which view of the session the current user may download (404 when none)."""
    if current_user.role in (Role.COORDINATOR, Role.ADMIN):
        if covers(current_user, intervention.departement_code, intervention.force):
            return COORDINATION
    elif current_user.role is Role.REQUESTER:
        if current_user.establishment_id == intervention.request.establishment_id:
            return ESTABLISHMENT
    elif current_user.role is Role.TRAINER:
        assigned = db.session.scalar(
            select(Assignment.id).join(Trainer, Trainer.id == Assignment.trainer_id)
            .where(Trainer.user_id == current_user.id, Assignment.intervention_id == intervention.id,
                   Assignment.status.in_((AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED))).limit(1))
        if assigned is not None:
            return TRAINER
    abort(404)


@bp.route("/interventions/<int:intervention_id>.ics")
@role_required(*ALL_ROLES)
def session_ics(intervention_id: int):
    """"Add to my calendar": the one session as an .ics file."""
    intervention = db.session.get(Intervention, intervention_id)
    if intervention is None or intervention.starts_at is None:
        abort(404)
    variant = _variant_for(intervention)
    response = Response(event_calendar(intervention, variant), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="intervention-{intervention.id}.ics"'
    return response


def _export_choices(form: ExportForm) -> None:
    departements = departements_of(db.session, current_user)
    codes = [code for code, _label in departements]
    form.departement.choices = [("", _("Tous ceux de mon périmètre"))] + departements
    establishments = db.session.execute(
        select(Establishment.id, Establishment.name, Establishment.commune_name)
        .where(Establishment.departement_code.in_(codes)).order_by(Establishment.name)).all()
    form.establishment.choices = [("", _("Tous"))] + [(str(i), f"{n} ({c})") for i, n, c in establishments]


@bp.route("/export")
@role_required(Role.COORDINATOR, Role.ADMIN)
def export():
    """The schedule of the scope as .ics or CSV, filtered."""
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
    interventions = sessions_for_export(db.session, filters, intervention_scope_condition(current_user))
    if form.format.data == "csv":
        body = export_csv(interventions)
        response = Response(body, mimetype="text/csv")
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        response.headers["Content-Disposition"] = 'attachment; filename="relais-interventions.csv"'
        return response
    body = export_ics(interventions, name="Relais — export", url_for=session_url, organizer_for=organizer_for,
                      now=utcnow(), variant=COORDINATION)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="relais-interventions.ics"'
    return response

