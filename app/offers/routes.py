"""Offers: trainers accept or decline; coordinators offer, assign directly and withdraw."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import load, own_trainer, permission
from app.converters import db_id
from app.domain import offers
from app.domain.clock import utcnow
from app.domain.offers import OfferSettings
from app.domain.refusals import MESSAGES
from app.domain.timezones import to_local, to_utc
from app.extensions import db
from app.forms import AcceptOfferForm, DeclineOfferForm, OfferForm
from app.models import AssignmentStatus, InterventionStatus, Trainer
from app.offers import bp
from app.offers.forms import RescheduleForm, WithdrawForm
from app.unit_of_work import perform, run


def _settings() -> OfferSettings:
    return OfferSettings.from_config(current_app.config)


# -- trainers -----------------------------------------------------------------------------------------

PAGE_SIZE = 10  # offers on a page of the trainer's list (each a card with its details and its answers)


@bp.route("/")
@permission("assignment", "answer")
def index():
    """Every open offer of the trainer, by session date, a page at a time (keyset on date and id: `apres`)."""
    trainer = own_trainer()
    now = utcnow()
    after = request.args.get("apres", type=db_id)
    shown, next_after = offers.pending_offers(db.session, trainer.id, now, after=after, limit=PAGE_SIZE)
    return render_template("offers/index.html", pending_offers=shown,
                           offer_count=offers.pending_offer_count(db.session, trainer.id, now),
                           accept_forms={a.id: AcceptOfferForm(prefix=f"a{a.id}") for a in shown},
                           next_url=url_for("offers.index", apres=next_after) if next_after else None,
                           first_url=url_for("offers.index") if after else None)



@bp.route("/<int:assignment_id>/accepter", methods=["POST"])
@permission("assignment", "answer")
def accept(assignment_id: int):
    assignment = load("assignment", assignment_id, "answer")
    if not AcceptOfferForm(prefix=f"a{assignment.id}").validate_on_submit():
        abort(400)
    wording = {"trainer_busy": _("Vous avez déjà accepté une autre intervention qui chevauche celle-ci : "
                                 "déclinez cette proposition ou voyez avec votre coordinateur.")}
    perform(lambda: offers.accept_offer(db.session, assignment, utcnow()),
            _("Merci ! L'intervention est acceptée ; elle figure dans vos prochaines interventions."), wording)
    return redirect(url_for("main.home"))


@bp.route("/<int:assignment_id>/decliner", methods=["GET", "POST"])
@permission("assignment", "answer")
def decline(assignment_id: int):
    assignment = load("assignment", assignment_id, "answer")
    form = DeclineOfferForm(prefix=f"d{assignment.id}")
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        perform(lambda: offers.decline_offer(db.session, assignment, reason, utcnow(), _settings()),
                _("Proposition déclinée ; la coordination est prévenue."))
        return redirect(url_for("main.home"))
    if assignment.status is not AssignmentStatus.OFFERED:
        flash(MESSAGES["offer_closed"], "info")
        return redirect(url_for("main.home"))
    return render_template("offers/decline.html", assignment=assignment, intervention=assignment.intervention,
                           form=form), 400 if form.is_submitted() else 200


# -- coordinators -------------------------------------------------------------------------------------


@bp.route("/interventions/<int:intervention_id>/formateurs/<int:trainer_id>", methods=["POST"])
@permission("session", "staff")
def offer(intervention_id: int, trainer_id: int):
    intervention = load("session", intervention_id, "staff")
    back = url_for("coordination.candidates", request_id=intervention.request_id, intervention_id=intervention.id)
    form = OfferForm(prefix=f"c{trainer_id}")
    if not form.validate_on_submit():
        flash(MESSAGES["start_not_offered"], "warning")
        return redirect(back)
    try:
        starts_at = datetime.fromisoformat(form.starts_at.data or "")
    except ValueError:
        starts_at = None  # refused by the domain, after it says whether the trainer is still a candidate
    outcome = perform(lambda: offers.offer_to_candidate(db.session, intervention, trainer_id, starts_at, current_user,
                                                        utcnow(), _settings(), assign=bool(form.assign.data)))
    if not outcome.ok:
        return redirect(back)
    name = db.session.get(Trainer, trainer_id).full_name
    flash(_("%(name)s est affecté(e) à l'intervention.", name=name) if form.assign.data
          else _("Intervention proposée à %(name)s.", name=name), "success")
    return redirect(url_for("coordination.show", request_id=intervention.request_id))


@bp.route("/<int:assignment_id>/retirer", methods=["GET", "POST"])
@permission("assignment", "withdraw")
def withdraw(assignment_id: int):
    assignment = load("assignment", assignment_id, "withdraw")
    intervention = assignment.intervention
    back = url_for("coordination.show", request_id=intervention.request_id)
    if assignment.status not in offers.LIVE:
        flash(MESSAGES["offer_closed"], "info")
        return redirect(back)
    if offers.has_begun(intervention, utcnow()):
        flash(MESSAGES["session_past"], "info")
        return redirect(back)
    form = WithdrawForm()
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        perform(lambda: offers.withdraw(db.session, assignment, current_user, reason, utcnow()),
                _("%(name)s est retiré(e) de l'intervention ; choisissez un autre formateur.",
                  name=assignment.trainer.full_name))
        return redirect(url_for("coordination.candidates", request_id=intervention.request_id,
                                intervention_id=intervention.id))
    return render_template("offers/withdraw.html", assignment=assignment, intervention=intervention,
                           form=form), 400 if form.is_submitted() else 200


@bp.route("/interventions/<int:intervention_id>/horaire", methods=["GET", "POST"])
@permission("session", "staff")
def reschedule(intervention_id: int):
    """Moves a confirmed session after agreeing with the establishment and the trainers."""
    intervention = load("session", intervention_id, "staff")
    back = url_for("coordination.show", request_id=intervention.request_id)
    if intervention.status is not InterventionStatus.CONFIRMED:
        flash(MESSAGES["session_changed"], "info")
        return redirect(back)
    if offers.has_begun(intervention, utcnow()):
        flash(MESSAGES["session_past"], "info")
        return redirect(back)
    zone = intervention.request.establishment.timezone
    local = to_local(intervention.starts_at, zone)
    form = RescheduleForm(day=local.date(), start=local.time())
    if form.validate_on_submit():
        starts_at = to_utc(form.day.data, form.start.data, zone)
        ends_at = starts_at + timedelta(minutes=intervention.request.duration_minutes)
        outcome = run(lambda: offers.reschedule(db.session, intervention, starts_at, ends_at, current_user, utcnow()))
        if outcome.ok:
            flash(_("Horaire modifié ; les formateurs et l'établissement reçoivent la mise à jour de leur agenda."),
                  "success")
            return redirect(back)
        if outcome.refusal.code == "start_in_past":
            form.day.errors.append(outcome.message())
        else:
            flash(outcome.message(), "warning")
    return render_template("offers/reschedule.html", intervention=intervention, form=form,
                           zone=zone), 400 if form.is_submitted() else 200
