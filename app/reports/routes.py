"""Reports after sessions: trainers file and correct them; coordinators read them; admins reopen them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.access import load, own_trainer, permission
from app.domain import reports
from app.domain.clock import utcnow
from app.extensions import db
from app.forms import ReopenForm
from app.models import SessionReport, Topic
from app.reports import bp
from app.reports.forms import ReportForm
from app.unit_of_work import perform


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
    form = ReportForm(obj=None)
    form.topics.choices = [(t.code, getattr(t, f"label_{current_user.language}", t.label_fr))
                           for t in db.session.scalars(select(Topic).order_by(Topic.position))]
    if not form.is_submitted():
        if report is not None:
            form.held.data = "oui" if report.held else "non"
            for name in ("not_held_reason", "people_present", "pupils", "staff", "parents", "remarks"):
                getattr(form, name).data = getattr(report, name)
            form.topics.data = [t.code for t in report.topics]
        else:
            form.topics.data = [t.code for t in intervention.request.topics]
    elif locked:
        flash(_("Ce compte rendu est verrouillé depuis le %(day)s ; demandez à un administrateur de le rouvrir.",
                day=report.editable_until.strftime("%d/%m/%Y")), "warning")
    elif form.validate():
        data = reports.ReportData(
            held=form.held.data == "oui", not_held_reason=(form.not_held_reason.data or "").strip() or None,
            people_present=form.people_present.data, pupils=form.pupils.data, staff=form.staff.data,
            parents=form.parents.data, topic_codes=tuple(form.topics.data),
            remarks=(form.remarks.data or "").strip() or None)
        perform(lambda: reports.save_report(db.session, intervention, trainer, data, current_user, now),
                _("Compte rendu enregistré, merci. Vous pouvez le corriger pendant 30 jours."))
        return redirect(url_for("main.home"))
    return render_template("reports/form.html", intervention=intervention, form=form, report=report,
                           locked=locked), 400 if form.is_submitted() else 200


@bp.route("/<int:report_id>/rouvrir", methods=["POST"])
@permission("report", "reopen")
def reopen(report_id: int):
    report = load("report", report_id, "reopen")
    if not ReopenForm().validate_on_submit():
        abort(400)
    perform(lambda: reports.reopen(db.session, report, current_user, utcnow()),
            _("Compte rendu rouvert pour 30 jours."))
    return redirect(url_for("coordination.show", request_id=report.intervention.request_id))

