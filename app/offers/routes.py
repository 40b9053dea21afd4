"""Offers: trainers accept or decline; coordinators offer, assign directly and withdraw."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import require_scope, role_required
from app.domain import offers
from app.domain.clock import utcnow
from app.domain.matching import rank_intervention
from app.domain.offers import OfferRefusedError, OfferSettings
from app.extensions import db
from app.interventions.labels import OFFER_REFUSALS
from app.invitations import queue_change
from app.models import Assignment, AssignmentStatus, Intervention, InterventionStatus, Role, Trainer
from app.offers import bp
from app.offers.forms import AcceptOfferForm, DeclineOfferForm, OfferForm, RescheduleForm, WithdrawForm

STAFF = (Role.COORDINATOR, Role.ADMIN)


def _settings() -> OfferSettings:
    return OfferSettings.from_config(current_app.config)


def _apply(change, done_message: str, refusals: dict | None = None) -> bool:
    """Runs an offer step; commits it with its e-mails, or rolls back and says why in French."""
    try:
        result = change()
    except OfferRefusedError as refused:
        db.session.rollback()
        flash((refusals or {}).get(refused.code) or OFFER_REFUSALS[refused.code], "warning")
        return False
    queue_change(result)
    db.session.commit()
    flash(done_message, "success")
    return True


# -- trainers -----------------------------------------------------------------------------------------


def _own_offer(assignment_id: int) -> Assignment:
    """The current trainer's own offer; anyone else's is a 404."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.trainer.user_id != current_user.id:
        abort(404)
    return assignment


@bp.route("/<int:assignment_id>/accepter", methods=["POST"])
@role_required(Role.TRAINER)
def accept(assignment_id: int):
    assignment = _own_offer(assignment_id)
    if not AcceptOfferForm(prefix=f"a{assignment.id}").validate_on_submit():
        abort(400)
    refusals = {"trainer_busy": _("Vous avez déjà accepté une autre intervention qui chevauche celle-ci : "
                                  "déclinez cette proposition ou voyez avec votre coordinateur.")}
    _apply(lambda: offers.accept_offer(db.session, assignment, utcnow()),
           _("Merci ! L'intervention est acceptée ; elle figure dans vos prochaines interventions."), refusals)
    return redirect(url_for("main.home"))


@bp.route("/<int:assignment_id>/decliner", methods=["GET", "POST"])
@role_required(Role.TRAINER)
def decline(assignment_id: int):
    assignment = _own_offer(assignment_id)
    form = DeclineOfferForm(prefix=f"d{assignment.id}")
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        _apply(lambda: offers.decline_offer(db.session, assignment, reason, utcnow(), _settings()),
               _("Proposition déclinée ; la coordination est prévenue."))
        return redirect(url_for("main.home"))
    if assignment.status is not AssignmentStatus.OFFERED:
        flash(OFFER_REFUSALS["offer_closed"], "info")
        return redirect(url_for("main.home"))
    return render_template("offers/decline.html", assignment=assignment, intervention=assignment.intervention,
                           form=form), 400 if form.is_submitted() else 200


# -- coordinators -------------------------------------------------------------------------------------


def _intervention_in_scope(intervention_id: int) -> Intervention:
    intervention = db.session.get(Intervention, intervention_id)
    if intervention is None:
        abort(404)
    require_scope(current_user, intervention.departement_code, intervention.force)
    return intervention


# Start times a coordinator chooses from for one trainer (the earliest ones).
START_CHOICES = 40


def start_choices(intervention: Intervention, starts: tuple[datetime, ...], limit: int = START_CHOICES,
                  labels: dict[datetime, str] | None = None) -> list[tuple[str, str]]:
    """The start times a coordinator may pick for a candidate: the fixed one once someone is on it. `labels`
    keeps the dates written for one candidate for the next (the candidates of a session share most starts)."""
    from app.templating import local_datetime_filter

    fixed = intervention.starts_at if intervention.status.value == "offered" else None
    usable = [s for s in starts if fixed is None or s == fixed][:limit]
    zone = intervention.request.establishment.timezone
    labels = {} if labels is None else labels
    for start in usable:
        if start not in labels:
            labels[start] = local_datetime_filter(start, zone, "long")
    return [(start.isoformat(), labels[start]) for start in usable]


@bp.route("/interventions/<int:intervention_id>/formateurs/<int:trainer_id>", methods=["POST"])
@role_required(*STAFF)
def offer(intervention_id: int, trainer_id: int):
    intervention = _intervention_in_scope(intervention_id)
    back = url_for("coordination.candidates", request_id=intervention.request_id, intervention_id=intervention.id)
    # Only a candidate of the ranking may be asked: the hard rules are checked again, now.
    ranking = rank_intervention(db.session, intervention.id, utcnow())
    candidate = next((c for c in ranking.candidates if c.trainer_id == trainer_id), None)
    if candidate is None:
        flash(_("Ce formateur ne remplit plus toutes les règles pour cette intervention."), "warning")
        return redirect(back)
    form = OfferForm(prefix=f"c{candidate.trainer_id}")
    form.starts_at.choices = start_choices(intervention, candidate.all_starts)
    if not form.validate_on_submit():
        flash(_("Choisissez un horaire parmi ceux proposés."), "warning")
        return redirect(back)
    trainer = db.session.get(Trainer, candidate.trainer_id)
    starts_at = datetime.fromisoformat(form.starts_at.data)
    ends_at = starts_at + timedelta(minutes=intervention.request.duration_minutes)
    now = utcnow()
    if form.assign.data:
        done = _apply(lambda: offers.assign_directly(db.session, intervention, trainer, starts_at, ends_at,
                                                     current_user, now, candidate.distance_km),
                      _("%(name)s est affecté(e) à l'intervention.", name=trainer.full_name))
    else:
        done = _apply(lambda: offers.make_offer(db.session, intervention, trainer, starts_at, ends_at, current_user,
                                                now, _settings(), candidate.distance_km),
                      _("Intervention proposée à %(name)s.", name=trainer.full_name))
    if not done:
        return redirect(back)
    return redirect(url_for("coordination.show", request_id=intervention.request_id))


@bp.route("/<int:assignment_id>/retirer", methods=["GET", "POST"])
@role_required(*STAFF)
def withdraw(assignment_id: int):
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    intervention = _intervention_in_scope(assignment.intervention_id)
    back = url_for("coordination.show", request_id=intervention.request_id)
    if assignment.status not in offers.LIVE:
        flash(OFFER_REFUSALS["offer_closed"], "info")
        return redirect(back)
    form = WithdrawForm()
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        _apply(lambda: offers.withdraw(db.session, assignment, current_user, reason, utcnow()),
               _("%(name)s est retiré(e) de l'intervention ; choisissez un autre formateur.",
                 name=assignment.trainer.full_name))
        return redirect(url_for("coordination.candidates", request_id=intervention.request_id,
                                intervention_id=intervention.id))
    return render_template("offers/withdraw.html", assignment=assignment, intervention=intervention,
                           form=form), 400 if form.is_submitted() else 200


@bp.route("/interventions/<int:intervention_id>/horaire", methods=["GET", "POST"])
@role_required(*STAFF)
def reschedule(intervention_id: int):
    """Moves a confirmed session after agreeing with the establishment and the trainers."""
    from app.domain.timezones import to_local, to_utc

    intervention = _intervention_in_scope(intervention_id)
    back = url_for("coordination.show", request_id=intervention.request_id)
    if intervention.status is not InterventionStatus.CONFIRMED:
        flash(OFFER_REFUSALS["session_changed"], "info")
        return redirect(back)
    zone = intervention.request.establishment.timezone
    local = to_local(intervention.starts_at, zone)
    form = RescheduleForm(day=local.date(), start=local.time())
    if form.validate_on_submit():
        starts_at = to_utc(form.day.data, form.start.data, zone)
        if starts_at <= utcnow():
            form.day.errors.append(_("Choisissez un moment à venir."))
        else:
            ends_at = starts_at + timedelta(minutes=intervention.request.duration_minutes)
            if _apply(lambda: offers.reschedule(db.session, intervention, starts_at, ends_at, current_user, utcnow()),
                      _("Horaire modifié ; les formateurs et l'établissement reçoivent la mise à jour de leur "
                        "agenda.")):
                return redirect(back)
    return render_template("offers/reschedule.html", intervention=intervention, form=form,
                           zone=zone), 400 if form.is_submitted() else 200
