"""The requester's side: create, edit, submit, cancel, duplicate requests; feedback after sessions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.access import role_required
from app.domain import lifecycle
from app.domain.clock import utcnow
from app.extensions import db
from app.interventions import bp
from app.interventions.checks import (
    apply_errors,
    check,
    input_from_form,
    input_from_request,
    local_today,
    reference_choices,
)
from app.interventions.forms import MAX_WINDOWS, ConfirmForm, FeedbackForm, ReasonForm, RequestForm
from app.interventions.labels import template_globals
from app.invitations import queue_change
from app.models import (
    Assignment,
    Audience,
    Intervention,
    InterventionRequest,
    RequestStatus,
    RequestWindow,
    Role,
    Topic,
)
from app.transitions import apply_transition

bp.app_context_processor(template_globals)


def _establishment():
    """Every page here needs the requester's establishment; without one, there is nothing to show."""
    if current_user.establishment_id is None:
        abort(404)
    return current_user.establishment


def _no_establishment():
    flash(_("Inscrivez d'abord votre établissement, ou demandez à rejoindre celui de vos collègues."), "info")
    return redirect(url_for("main.home"))


def _own_request(request_id: int) -> InterventionRequest:
    """404 for a request of another establishment: its existence must not leak."""
    item = db.session.get(InterventionRequest, request_id)
    if item is None or current_user.establishment_id is None or item.establishment_id != current_user.establishment_id:
        abort(404)
    return item


def _own_intervention(request_id: int, intervention_id: int) -> Intervention:
    item = _own_request(request_id)
    intervention = db.session.get(Intervention, intervention_id)
    if intervention is None or intervention.request_id != item.id:
        abort(404)
    return intervention


@bp.route("/")
@role_required(Role.REQUESTER)
def index():
    if current_user.establishment_id is None:
        return _no_establishment()
    establishment = current_user.establishment
    requests = db.session.scalars(
        select(InterventionRequest).where(InterventionRequest.establishment_id == establishment.id)
        .options(selectinload(InterventionRequest.windows), selectinload(InterventionRequest.interventions),
                 selectinload(InterventionRequest.audiences))
        .order_by(InterventionRequest.id.desc())).all()
    return render_template("interventions/index.html", requests=requests)


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


def _save(form: RequestForm, item: InterventionRequest) -> None:
    item.group_count = form.group_count.data
    item.people_per_group = form.people_per_group.data
    item.duration_minutes = form.duration_minutes.data
    for name in ("place", "room", "equipment", "contact_name", "contact_phone", "contact_email", "notes"):
        setattr(item, name, (getattr(form, name).data or "").strip() or None)
    item.wants_two_trainers = form.wants_two_trainers.data
    item.audiences = list(db.session.scalars(select(Audience).where(Audience.code.in_(form.audiences.data))))
    item.topics = list(db.session.scalars(select(Topic).where(Topic.code.in_(form.topics.data))))
    item.windows = [RequestWindow(start_date=entry.form.start_date.data, end_date=entry.form.end_date.data,
                                  start_time=entry.form.start_time.data, end_time=entry.form.end_time.data)
                    for entry in form.windows if entry.form.start_date.data is not None]


def _handle_form(form: RequestForm, item: InterventionRequest | None):
    """Returns a redirect when the form was saved, else None (the page is shown again)."""
    if form.add_window.data and request.method == "POST":
        if len(form.windows) < MAX_WINDOWS:
            form.windows.append_entry()
        return None
    if not form.validate_on_submit():
        return None
    establishment = _establishment()
    findings = check(input_from_form(form), establishment)
    if not findings.ok:
        apply_errors(form, findings)
        flash(_("La demande n'est pas enregistrée : corrigez les champs signalés."), "danger")
        return None
    now = utcnow()
    if item is None:
        item = InterventionRequest(establishment_id=establishment.id, created_by_id=current_user.id,
                                   departement_code=establishment.departement_code, force=establishment.force,
                                   contact_name="", contact_phone="", created_at=now, updated_at=now)
        db.session.add(item)
        _save(form, item)
        lifecycle.record_creation(db.session, item, current_user, now)
    else:
        try:
            lifecycle.record_edit(db.session, item, current_user, now)
        except lifecycle.TransitionRefusedError:
            db.session.rollback()
            flash(_("Cette demande est déjà planifiée : elle ne peut plus être modifiée."), "warning")
            return redirect(url_for("interventions.show", request_id=item.id))
        _save(form, item)
    db.session.flush()
    if form.send.data and item.status is RequestStatus.DRAFT:
        queue_change(lifecycle.submit(db.session, item, current_user, now))
        flash(_("Votre demande est envoyée à la coordination départementale."), "success")
    else:
        flash(_("Demande enregistrée."), "success")
    for warning in findings.warnings:
        flash(warning, "warning")
    db.session.commit()
    return redirect(url_for("interventions.show", request_id=item.id))


@bp.route("/nouvelle", methods=["GET", "POST"])
@role_required(Role.REQUESTER)
def create():
    if current_user.establishment_id is None:
        return _no_establishment()
    form = _form_for(None)
    return _handle_form(form, None) or render_template("interventions/form.html", form=form, item=None)


@bp.route("/<int:request_id>/modifier", methods=["GET", "POST"])
@role_required(Role.REQUESTER)
def edit(request_id: int):
    item = _own_request(request_id)
    if item.status not in lifecycle.EDITABLE:
        flash(_("Cette demande est déjà planifiée : elle ne peut plus être modifiée."), "warning")
        return redirect(url_for("interventions.show", request_id=item.id))
    form = _form_for(item)
    return _handle_form(form, item) or render_template("interventions/form.html", form=form, item=item)


@bp.route("/<int:request_id>")
@role_required(Role.REQUESTER)
def show(request_id: int):
    item = _own_request(request_id)
    # Sessions with their trainers, in a fixed number of queries.
    db.session.scalars(select(InterventionRequest).where(InterventionRequest.id == item.id).options(
        selectinload(InterventionRequest.interventions).selectinload(Intervention.assignments)
        .selectinload(Assignment.trainer))).one()
    warnings = []
    if item.status in lifecycle.EDITABLE:
        warnings = check(input_from_request(item), item.establishment).warnings
    return render_template("interventions/show.html", item=item, warnings=warnings, confirm_form=ConfirmForm(),
                           now=utcnow(), feedback_possible=lifecycle.feedback_possible)


@bp.route("/<int:request_id>/envoyer", methods=["POST"])
@role_required(Role.REQUESTER)
def submit(request_id: int):
    item = _own_request(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    findings = check(input_from_request(item), item.establishment)
    if not findings.ok:
        flash(_("La demande ne peut pas être envoyée en l'état : modifiez-la pour corriger les erreurs signalées."),
              "danger")
        return redirect(url_for("interventions.edit", request_id=item.id))
    apply_transition(lambda: lifecycle.submit(db.session, item, current_user, utcnow()),
                     _("Cette demande a déjà été envoyée."),
                     _("Votre demande est envoyée à la coordination départementale."))
    return redirect(url_for("interventions.show", request_id=item.id))


@bp.route("/<int:request_id>/annuler", methods=["GET", "POST"])
@role_required(Role.REQUESTER)
def cancel(request_id: int):
    item = _own_request(request_id)
    form = ReasonForm()
    if item.status not in lifecycle.CANCELLABLE:
        flash(_("Cette demande ne peut plus être annulée."), "info")
        return redirect(url_for("interventions.show", request_id=item.id))
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        apply_transition(lambda: lifecycle.cancel_request(db.session, item, current_user, reason, utcnow()),
                         _("Cette demande ne peut plus être annulée."),
                         _("La demande est annulée ; les personnes concernées sont prévenues."))
        return redirect(url_for("interventions.show", request_id=item.id))
    return render_template("interventions/cancel.html", form=form, item=item, intervention=None)


@bp.route("/<int:request_id>/interventions/<int:intervention_id>/annuler", methods=["GET", "POST"])
@role_required(Role.REQUESTER)
def cancel_intervention(request_id: int, intervention_id: int):
    intervention = _own_intervention(request_id, intervention_id)
    item = intervention.request
    form = ReasonForm()
    if intervention.status not in lifecycle.OPEN_SESSION:
        flash(_("Cette intervention ne peut plus être annulée."), "info")
        return redirect(url_for("interventions.show", request_id=item.id))
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        apply_transition(lambda: lifecycle.cancel_intervention(db.session, intervention, current_user, reason,
                                                               utcnow()),
                         _("Cette intervention ne peut plus être annulée."),
                         _("L'intervention est annulée ; les personnes concernées sont prévenues."))
        return redirect(url_for("interventions.show", request_id=item.id))
    return render_template("interventions/cancel.html", form=form, item=item, intervention=intervention)


@bp.route("/<int:request_id>/dupliquer", methods=["POST"])
@role_required(Role.REQUESTER)
def duplicate(request_id: int):
    item = _own_request(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    copy = lifecycle.duplicate(db.session, item, current_user, local_today(item.establishment), utcnow())
    db.session.commit()
    flash(_("Voici une copie de la demande n° %(number)s, en brouillon : vérifiez les dates puis envoyez-la.",
            number=item.id), "success")
    return redirect(url_for("interventions.edit", request_id=copy.id))


@bp.route("/<int:request_id>/interventions/<int:intervention_id>/avis", methods=["GET", "POST"])
@role_required(Role.REQUESTER)
def feedback(request_id: int, intervention_id: int):
    intervention = _own_intervention(request_id, intervention_id)
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
        try:
            lifecycle.save_feedback(db.session, intervention, current_user, form.satisfaction.data,
                                    (form.comment.data or "").strip() or None, now)
            db.session.commit()
        except (lifecycle.FeedbackClosedError, IntegrityError):
            db.session.rollback()
            flash(_("Votre avis n'a pas pu être enregistré : il a peut-être déjà été donné."), "warning")
        else:
            flash(_("Merci pour votre avis."), "success")
        return redirect(url_for("interventions.show", request_id=request_id))
    return render_template("interventions/feedback.html", form=form, item=intervention.request,
                           intervention=intervention, existing=existing)
