"""The requester's side: create, edit, submit, cancel, duplicate requests; feedback after sessions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.access import load, own_establishment, permission
from app.converters import db_id
from app.domain import lifecycle
from app.domain.clock import utcnow
from app.domain.invitation_updates import DETAILS_EDITABLE, PracticalDetails, update_practical_details
from app.domain.policies import REQUESTER, REQUESTS
from app.domain.request_queue import queue_page
from app.domain.requests import InvalidRequest, check, input_of, local_today, save_request, submit_request
from app.domain.timezones import to_local
from app.extensions import db
from app.forms import ConfirmForm
from app.interventions import bp
from app.interventions.checks import (
    apply_errors,
    details_from_form,
    input_from_form,
    language,
    min_notice_days,
    reference_choices,
)
from app.interventions.forms import MAX_WINDOWS, FeedbackForm, PracticalDetailsForm, ReasonForm, RequestForm
from app.labels import template_globals
from app.models import Assignment, Intervention, InterventionRequest, InterventionStatus, Role
from app.unit_of_work import perform, run

bp.app_context_processor(template_globals)


def _no_establishment():
    flash(_("Inscrivez d'abord votre établissement, ou demandez à rejoindre celui de vos collègues."), "info")
    return redirect(url_for("main.home"))


def _session_of(item: InterventionRequest, intervention_id: int, action: str) -> Intervention:
    """A session of this request the requester may act on (404 for another request's, even their own)."""
    intervention = load("session", intervention_id, action)
    if intervention.request_id != item.id:
        abort(404)
    return intervention


PAGE_SIZE = 50  # requests on a page of the requester's list


@bp.route("/")
@permission("request", "list", only=REQUESTER)
def index():
    if own_establishment() is None:
        return _no_establishment()
    # The latest first, a page at a time (keyset on the id: `apres`, the last one shown), as plain rows like the
    # coordination's queue.
    mine = select(InterventionRequest).where(REQUESTS.rows(current_user))
    after = request.args.get("apres", type=db_id)
    requests, next_after = queue_page(db.session, mine, after=after, limit=PAGE_SIZE, newest_first=True)
    total = db.session.scalar(mine.with_only_columns(func.count(InterventionRequest.id)))
    return render_template("interventions/index.html", requests=requests, total=total,
                           next_url=url_for("interventions.index", apres=next_after) if next_after else None,
                           first_url=url_for("interventions.index") if after else None)


def _form_for(item: InterventionRequest | None) -> RequestForm:
    form = RequestForm(obj=item)
    audiences, topics = reference_choices()
    form.audiences.choices, form.topics.choices = audiences, topics
    if request.method == "GET":
        if item is not None:
            form.audiences.data = [a.code for a in item.audiences]
            form.topics.data = [t.code for t in item.topics]
        else:
            form.contact_name.data = current_user.full_name
            form.contact_phone.data = current_user.phone or current_user.establishment.phone
            form.contact_email.data = current_user.email
            form.windows.append_entry()  # two rows to start with: people often offer two periods
    return form


def _handle_form(form: RequestForm, item: InterventionRequest | None):
    """Returns a redirect when the form was saved, else None (the page is shown again)."""
    if form.add_window.data and request.method == "POST":
        if len(form.windows) < MAX_WINDOWS:
            form.windows.append_entry()
        return None
    if not form.is_submitted():
        return None
    if not form.validate():
        # Every error in one pass: the rules of the domain too, not only the fields' own checks.
        apply_errors(form, check(db.session, input_from_form(form), own_establishment(), utcnow(),
                                 min_notice_days(), language()))
        return None
    outcome = run(lambda: save_request(
        db.session, own_establishment(), current_user, input_from_form(form), details_from_form(form), item,
        send=form.send.data, now=utcnow(), min_notice_days=min_notice_days(), language=language()))
    if isinstance(outcome.refusal, InvalidRequest):
        apply_errors(form, outcome.refusal.findings)  # the error summary on top of the form says what to correct
        return None
    if not outcome.ok:  # planned meanwhile
        flash(outcome.message(), "warning")
        return redirect(url_for("interventions.show", request_id=item.id))
    saved = outcome.value
    flash(_("Votre demande est envoyée à la coordination départementale.") if saved.sent
          else _("Demande enregistrée."), "success")
    for warning in saved.warnings:
        flash(warning, "warning")
    return redirect(url_for("interventions.show", request_id=saved.request.id))


@bp.route("/nouvelle", methods=["GET", "POST"])
@permission("request", "create")
def create():
    if own_establishment() is None:
        return _no_establishment()
    form = _form_for(None)
    return _handle_form(form, None) or render_template("interventions/form.html", form=form, item=None)


@bp.route("/<int:request_id>/modifier", methods=["GET", "POST"])
@permission("request", "edit")
def edit(request_id: int):
    item = load("request", request_id, "edit")
    if item.status not in lifecycle.EDITABLE:
        flash(_("Cette demande est déjà planifiée : elle ne peut plus être modifiée."), "warning")
        return redirect(url_for("interventions.show", request_id=item.id))
    form = _form_for(item)
    return _handle_form(form, item) or render_template("interventions/form.html", form=form, item=item)


@bp.route("/<int:request_id>")
@permission("request", "view", only=REQUESTER)
def show(request_id: int):
    item = load("request", request_id, "view")
    # Sessions with their trainers, in a fixed number of queries.
    db.session.scalars(select(InterventionRequest).where(InterventionRequest.id == item.id).options(
        selectinload(InterventionRequest.interventions).selectinload(Intervention.assignments)
        .selectinload(Assignment.trainer))).one()
    warnings = []
    if item.status in lifecycle.EDITABLE:
        warnings = check(db.session, input_of(item), item.establishment, utcnow(), min_notice_days(),
                         language()).warnings
    return render_template("interventions/show.html", item=item, warnings=warnings, confirm_form=ConfirmForm(),
                           now=utcnow(), feedback_possible=lifecycle.feedback_possible)


@bp.route("/<int:request_id>/envoyer", methods=["POST"])
@permission("request", "submit")
def submit(request_id: int):
    item = load("request", request_id, "submit")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    outcome = run(lambda: submit_request(db.session, item, current_user, utcnow(), min_notice_days()))
    if outcome.ok:
        flash(_("Votre demande est envoyée à la coordination départementale."), "success")
    elif outcome.refusal.code == "request_incomplete":
        flash(outcome.message(), "danger")
        return redirect(url_for("interventions.edit", request_id=item.id))
    else:
        flash(outcome.message(), "info")
    return redirect(url_for("interventions.show", request_id=item.id))


@bp.route("/<int:request_id>/annuler", methods=["GET", "POST"])
@permission("request", "cancel", only=REQUESTER)
def cancel(request_id: int):
    item = load("request", request_id, "cancel")
    form = ReasonForm()
    if item.status not in lifecycle.CANCELLABLE:
        flash(_("Cette demande ne peut plus être annulée."), "info")
        return redirect(url_for("interventions.show", request_id=item.id))
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        perform(lambda: lifecycle.cancel_request(db.session, item, current_user, reason, utcnow()),
                _("La demande est annulée ; les personnes concernées sont prévenues."), refused_category="info")
        return redirect(url_for("interventions.show", request_id=item.id))
    return render_template("interventions/cancel.html", form=form, item=item, intervention=None)


@bp.route("/<int:request_id>/interventions/<int:intervention_id>/annuler", methods=["GET", "POST"])
@permission("session", "cancel", only=REQUESTER)
def cancel_intervention(request_id: int, intervention_id: int):
    item = load("request", request_id, "view")
    intervention = _session_of(item, intervention_id, "cancel")
    form = ReasonForm()
    if intervention.status not in lifecycle.OPEN_SESSION:
        flash(_("Cette intervention ne peut plus être annulée."), "info")
        return redirect(url_for("interventions.show", request_id=item.id))
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        perform(lambda: lifecycle.cancel_intervention(db.session, intervention, current_user, reason, utcnow()),
                _("L'intervention est annulée ; les personnes concernées sont prévenues."), refused_category="info")
        return redirect(url_for("interventions.show", request_id=item.id))
    return render_template("interventions/cancel.html", form=form, item=item, intervention=intervention)


@bp.route("/<int:request_id>/dupliquer", methods=["POST"])
@permission("request", "duplicate")
def duplicate(request_id: int):
    item = load("request", request_id, "duplicate")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    now = utcnow()
    copy = run(lambda: lifecycle.duplicate(db.session, item, current_user, local_today(item.establishment, now),
                                           now)).value
    flash(_("Voici une copie de la demande n° %(number)s, en brouillon : vérifiez les dates puis envoyez-la.",
            number=item.id), "success")
    return redirect(url_for("interventions.edit", request_id=copy.id))


@bp.route("/<int:request_id>/interventions/<int:intervention_id>/avis", methods=["GET", "POST"])
@permission("session", "feedback")
def feedback(request_id: int, intervention_id: int):
    item = load("request", request_id, "view")
    intervention = _session_of(item, intervention_id, "feedback")
    now = utcnow()
    existing = intervention.feedback
    if not lifecycle.feedback_possible(intervention, now):
        flash(_("Vous pourrez donner votre avis après l'intervention."), "info")
        return redirect(url_for("interventions.show", request_id=request_id))
    if existing is not None and not lifecycle.feedback_editable(existing, now):
        flash(_("Votre avis a été enregistré et ne peut plus être modifié (7 jours après l'avoir donné)."), "info")
        return redirect(url_for("interventions.show", request_id=request_id))
    form = FeedbackForm(obj=existing)
    if form.validate_on_submit():
        perform(lambda: lifecycle.save_feedback(db.session, intervention, current_user, form.satisfaction.data,
                                                (form.comment.data or "").strip() or None, now),
                _("Merci pour votre avis."))
        return redirect(url_for("interventions.show", request_id=request_id))
    day = to_local(intervention.starts_at, item.establishment.timezone).date() if intervention.starts_at else None
    return render_template("interventions/feedback.html", form=form, item=intervention.request,
                           intervention=intervention, existing=existing, day=day)


@bp.route("/<int:request_id>/informations-pratiques", methods=["GET", "POST"])
@permission("request", "edit_details")
def edit_details(request_id: int):
    """Once planned, the place, room, equipment, contact and notes may still change: everyone invited to a session
    still to come gets the update in their calendar."""
    item = load("request", request_id, "edit_details")
    back = (url_for("interventions.show", request_id=item.id) if current_user.role is Role.REQUESTER
            else url_for("coordination.show", request_id=item.id))
    if item.status not in DETAILS_EDITABLE:
        flash(_("Cette demande est terminée ou annulée : ses informations pratiques ne peuvent plus être modifiées."),
              "info")
        return redirect(back)
    form = PracticalDetailsForm(obj=item)
    if form.validate_on_submit():
        details = PracticalDetails(place=form.place.data, room=form.room.data, equipment=form.equipment.data,
                                   contact_name=form.contact_name.data, contact_phone=form.contact_phone.data,
                                   contact_email=form.contact_email.data, notes=form.notes.data)
        outcome = run(lambda: update_practical_details(db.session, item, current_user, details, utcnow()))
        if not outcome.ok:
            flash(outcome.message(), "warning")
        elif outcome.value.calendar:
            flash(ngettext("Les informations pratiques sont enregistrées. L'intervention à venir est mise à jour "
                           "dans l'agenda des formateurs et du contact.",
                           "Les informations pratiques sont enregistrées. Les %(num)s interventions à venir sont "
                           "mises à jour dans l'agenda des formateurs et du contact.",
                           len(outcome.value.calendar)), "success")
        else:
            flash(_("Les informations pratiques sont enregistrées."), "success")
        return redirect(back)
    upcoming = [session for session in item.interventions
                if session.status is InterventionStatus.CONFIRMED and session.starts_at > utcnow()]
    return render_template("interventions/details.html", form=form, item=item, back=back, upcoming=upcoming), (
        400 if form.errors else 200)
