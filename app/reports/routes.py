"""Reports after sessions: trainers file them; the coordination reads and corrects them; admins reopen them."""

from __future__ import annotations

from itertools import groupby

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.access import load, own_trainer, permission
from app.domain import reports
from app.domain.clock import utcnow
from app.domain.policies import REPORTS
from app.extensions import db
from app.forms import ReopenForm
from app.labels import NOT_HELD_REASONS
from app.models import Intervention, InterventionRequest, ReportCorrection, SessionReport, Topic
from app.reports import bp
from app.reports.forms import ReportForm
from app.templating import date_filter
from app.unit_of_work import perform


def _topic_choices() -> list[tuple[str, str]]:
    return [(t.code, getattr(t, f"label_{current_user.language}", t.label_fr))
            for t in db.session.scalars(select(Topic).order_by(Topic.position))]


def _fill_from(form: ReportForm, report: SessionReport) -> None:
    form.held.data = "oui" if report.held else "non"
    for name in ("not_held_code", "not_held_reason", "people_present", "pupils", "staff", "parents", "remarks"):
        getattr(form, name).data = getattr(report, name)
    form.topics.data = [t.code for t in report.topics]


def _report_data(form: ReportForm) -> reports.ReportData:
    return reports.ReportData(
        held={"oui": True, "non": False}.get(form.held.data), not_held_code=form.not_held_code.data or None,
        not_held_reason=(form.not_held_reason.data or "").strip() or None, people_present=form.people_present.data,
        pupils=form.pupils.data, staff=form.staff.data, parents=form.parents.data, topic_codes=tuple(form.topics.data),
        remarks=(form.remarks.data or "").strip() or None)


@bp.route("/interventions/<int:intervention_id>", methods=["GET", "POST"])
@permission("session", "report")
def file(intervention_id: int):
    trainer = own_trainer()
    intervention = load("session", intervention_id, "report")
    now = utcnow()
    if not reports.may_report(intervention, trainer.id, now):
        flash(_("Le compte rendu se remplit une fois l'intervention passée."), "info")
        return redirect(url_for("main.home"))
    report = db.session.scalar(select(SessionReport).where(SessionReport.intervention_id == intervention.id,
                                                           SessionReport.trainer_id == trainer.id))
    locked = report is not None and reports.is_locked(report, now)
    form = ReportForm()
    form.topics.choices = _topic_choices()
    if not form.is_submitted():
        if report is not None:
            _fill_from(form, report)
        else:
            form.topics.data = [t.code for t in intervention.request.topics]
    elif locked:
        flash(_("Ce compte rendu est verrouillé depuis le %(day)s ; demandez à votre coordinateur de le corriger.",
                day=date_filter(report.editable_until)), "warning")
    elif form.validate():
        outcome = perform(lambda: reports.save_report(db.session, intervention, trainer, _report_data(form),
                                                      current_user, now),
                          _("Compte rendu enregistré, merci. Vous pouvez le corriger pendant 30 jours."))
        if outcome.ok:
            return redirect(url_for("trainers.session", intervention_id=intervention.id))
    return render_template("reports/form.html", intervention=intervention, form=form, report=report,
                           locked=locked, action=url_for("reports.file", intervention_id=intervention.id),
                           back=url_for("trainers.session", intervention_id=intervention.id)
                           ), 400 if form.is_submitted() else 200


# -- the coordination ----------------------------------------------------------------------------------

PAGE_SIZE = 50


@bp.route("/")
@permission("report", "list")
def index():
    """The reports of the scope, latest filed first, fifty at a time (keyset on the id: `avant`)."""
    before = request.args.get("avant", type=int)
    query = (select(SessionReport).where(REPORTS.rows(current_user))
             .options(joinedload(SessionReport.trainer), selectinload(SessionReport.corrections),
                      joinedload(SessionReport.intervention).joinedload(Intervention.request)
                      .joinedload(InterventionRequest.establishment))
             .order_by(SessionReport.id.desc()).limit(PAGE_SIZE + 1))
    if before:
        query = query.where(SessionReport.id < before)
    rows = db.session.scalars(query).unique().all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_template("reports/index.html", reports=rows,
                           next_before=rows[-1].id if more and rows else None, first_page=not before)


def _load_report(report_id: int, action: str) -> SessionReport:
    return load("report", report_id, action, options=[
        joinedload(SessionReport.trainer), selectinload(SessionReport.topics),
        selectinload(SessionReport.corrections).joinedload(ReportCorrection.actor),
        joinedload(SessionReport.intervention).joinedload(Intervention.request)
        .joinedload(InterventionRequest.establishment)])


FIELD_LABELS = {
    "held": _l("A eu lieu"), "people_present": _l("Personnes présentes"), "pupils": _l("dont élèves ou étudiants"),
    "staff": _l("dont personnels"), "parents": _l("dont parents"), "not_held_code": _l("Motif"),
    "not_held_reason": _l("Précisions sur le motif"), "topics": _l("Thèmes abordés"), "remarks": _l("Remarques"),
}


def _value_shower(topic_labels: dict[str, str]):
    """How the history writes a stored value (app.domain.reports.report_snapshot) for people."""
    def shown_value(field: str, value: str | None) -> str:
        if value is None:
            return "—"
        if field == "held":
            return _("Oui") if value == "True" else _("Non")
        if field == "not_held_code":
            return str(NOT_HELD_REASONS.get(value, value))
        if field == "topics":
            return ", ".join(topic_labels.get(code, code) for code in value.split(","))
        return value
    return shown_value


@bp.route("/<int:report_id>")
@permission("report", "view")
def show(report_id: int):
    report = _load_report(report_id, "view")
    # The fields changed together (same moment, same person) make one correction; the latest first.
    corrections = [(at, actor, list(changes)) for (at, actor), changes in
                   groupby(report.corrections, key=lambda change: (change.at, change.actor))]
    return render_template("reports/show.html", report=report, intervention=report.intervention,
                           corrections=corrections[::-1], field_labels=FIELD_LABELS,
                           shown_value=_value_shower(dict(_topic_choices())))


@bp.route("/<int:report_id>/corriger", methods=["GET", "POST"])
@permission("report", "correct")
def correct(report_id: int):
    """The coordination corrects a report of its scope at any time; each change is kept with its author."""
    report = _load_report(report_id, "correct")
    form = ReportForm()
    form.topics.choices = _topic_choices()
    form.submit.label.text = _("Enregistrer la correction")
    if not form.is_submitted():
        _fill_from(form, report)
    elif form.validate():
        outcome = perform(lambda: reports.correct_report(db.session, report, _report_data(form), current_user,
                                                         utcnow()),
                          _("Compte rendu corrigé ; la correction figure dans son historique."))
        if outcome.ok:
            return redirect(url_for("reports.show", report_id=report.id))
    return render_template("reports/form.html", intervention=report.intervention, form=form, report=report,
                           correcting=True, action=url_for("reports.correct", report_id=report.id),
                           back=url_for("reports.show", report_id=report.id)), 400 if form.is_submitted() else 200


@bp.route("/<int:report_id>/rouvrir", methods=["POST"])
@permission("report", "reopen")
def reopen(report_id: int):
    report = load("report", report_id, "reopen")
    if not ReopenForm().validate_on_submit():
        abort(400)
    perform(lambda: reports.reopen(db.session, report, current_user, utcnow()),
            _("Compte rendu rouvert pour 30 jours."))
    return redirect(url_for("coordination.show", request_id=report.intervention.request_id))

