"""Create an establishment, join one (approved by a member), invite colleagues, approve newcomers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.access import role_required
from app.domain.clock import utcnow
from app.domain.establishments import CommuneError, decide_join, locate
from app.domain.feeds import refresh_events_of_establishment
from app.domain.identifiers import normalize_siret, normalize_uai
from app.domain.lifecycle import coordinators_for
from app.emails import (
    queue_activation,
    queue_colleague_invitation_for_existing_account,
    queue_join_decision,
    queue_join_request,
    queue_join_request_to_coordination,
)
from app.establishments import bp
from app.establishments.forms import (
    DecisionForm,
    EstablishmentDetailsForm,
    EstablishmentForm,
    InviteColleagueForm,
    JoinForm,
    normalized_identifier,
)
from app.extensions import db
from app.models import Establishment, EstablishmentKind, JoinRequest, JoinStatus, Role, User
from app.models.accounts import normalize_email


def _pending_join() -> JoinRequest | None:
    return db.session.scalar(select(JoinRequest).where(JoinRequest.user_id == current_user.id,
                                                       JoinRequest.status == JoinStatus.PENDING))


def _existing(uai: str | None, siret: str | None) -> Establishment | None:
    conditions = [Establishment.uai == uai] if uai else []
    conditions += [Establishment.siret == siret] if siret else []
    return db.session.scalar(select(Establishment).where(or_(*conditions))) if conditions else None


@bp.route("/nouveau", methods=["GET", "POST"])
@role_required(Role.REQUESTER)
def create():
    if current_user.establishment_id is not None:
        return redirect(url_for("establishments.members"))
    form = EstablishmentForm()
    if form.validate_on_submit():
        kind = EstablishmentKind(form.kind.data)
        uai, siret = normalized_identifier(kind, form.identifier.data)
        if _existing(uai, siret) is not None:
            form.identifier.errors.append(_("Cet établissement est déjà inscrit sur Relais : demandez à le "
                                            "rejoindre avec cet identifiant."))
        else:
            try:
                location = locate(db.session, form.postcode.data, form.commune_choice.data or form.commune_insee.data,
                                  form.commune_name.data)
            except CommuneError as problem:
                target = form.commune_insee
                if problem.choices:
                    form.commune_choice.choices = [(c.insee_code, f"{c.name} ({c.insee_code})")
                                                   for c in problem.choices]
                    target = form.commune_choice
                target.errors = [*target.errors, problem.message]
            else:
                establishment = Establishment(
                    kind=kind, name=form.name.data.strip(), uai=uai, siret=siret, address=form.address.data.strip(),
                    postcode=form.postcode.data, commune_name=location.commune_name,
                    commune_insee=location.insee_code, departement_code=location.departement_code,
                    latitude=location.latitude, longitude=location.longitude, force=location.force,
                    phone=form.phone.data or None, created_at=utcnow())
                db.session.add(establishment)
                try:
                    db.session.flush()
                except IntegrityError:  # registered by someone else a moment ago
                    db.session.rollback()
                    form.identifier.errors.append(_("Cet établissement est déjà inscrit sur Relais : demandez à "
                                                    "le rejoindre avec cet identifiant."))
                    return render_template("establishments/create.html", form=form)
                current_user.establishment_id = establishment.id
                db.session.commit()
                flash(_("Votre établissement est enregistré. Vous pouvez maintenant demander des interventions."),
                      "success")
                return redirect(url_for("main.home"))
    return render_template("establishments/create.html", form=form)


@bp.route("/rejoindre", methods=["GET", "POST"])
@role_required(Role.REQUESTER)
def join():
    if current_user.establishment_id is not None:
        return redirect(url_for("establishments.members"))
    pending = _pending_join()
    form = JoinForm()
    if pending is None and form.validate_on_submit():
        value = form.identifier.data
        establishment = _existing(normalize_uai(value), normalize_siret(value))
        if establishment is None:
            form.identifier.errors.append(_("Aucun établissement n'est inscrit avec cet identifiant : vous pouvez "
                                            "l'inscrire vous-même."))
        else:
            join_request = JoinRequest(establishment_id=establishment.id, user_id=current_user.id,
                                       message=form.message.data or None, created_at=utcnow())
            db.session.add(join_request)
            db.session.flush()
            approvers = [member for member in establishment.members if member.is_active]
            for member in approvers:
                queue_join_request(member, join_request)
            if not approvers:
                # Nobody there to approve: the coordination of the territory decides.
                for coordinator in coordinators_for(db.session, establishment.departement_code,
                                                    establishment.force):
                    queue_join_request_to_coordination(coordinator, join_request)
            db.session.commit()
            flash(_("Votre demande est envoyée aux membres de %(name)s : vous recevrez un e-mail dès qu'ils "
                    "l'auront acceptée.", name=establishment.name), "success")
            return redirect(url_for("main.home"))
    return render_template("establishments/join.html", form=form, pending=pending)


@bp.route("/")
@role_required(Role.REQUESTER)
def members():
    establishment = current_user.establishment
    if establishment is None:
        return redirect(url_for("main.home"))
    pending = db.session.scalars(select(JoinRequest).where(JoinRequest.establishment_id == establishment.id,
                                                           JoinRequest.status == JoinStatus.PENDING)
                                 .order_by(JoinRequest.id)).all()
    people = db.session.scalars(select(User).where(User.establishment_id == establishment.id)
                                .order_by(User.full_name)).all()
    return render_template("establishments/members.html", establishment=establishment, people=people,
                           pending=pending, invite_form=InviteColleagueForm(), decision_form=DecisionForm())


@bp.route("/modifier", methods=["GET", "POST"])
@role_required(Role.REQUESTER)
def edit():
    establishment = current_user.establishment
    if establishment is None:
        return redirect(url_for("main.home"))
    form = EstablishmentDetailsForm(obj=establishment)
    if form.validate_on_submit():
        name, address = form.name.data.strip(), form.address.data.strip()
        if (name, address) != (establishment.name, establishment.address):
            refresh_events_of_establishment(db.session, establishment.id, utcnow())  # calendars say where
        establishment.name, establishment.address = name, address
        establishment.phone = (form.phone.data or "").strip() or None
        db.session.commit()
        flash(_("Les informations de l'établissement sont enregistrées."), "success")
        return redirect(url_for("establishments.members"))
    return render_template("establishments/edit.html", form=form, establishment=establishment)


@bp.route("/inviter", methods=["POST"])
@role_required(Role.REQUESTER)
def invite():
    establishment = current_user.establishment
    if establishment is None:
        abort(404)
    form = InviteColleagueForm()
    if not form.validate_on_submit():
        pending = []
        people = db.session.scalars(select(User).where(User.establishment_id == establishment.id)).all()
        return render_template("establishments/members.html", establishment=establishment, people=people,
                               pending=pending, invite_form=form, decision_form=DecisionForm()), 400
    email = normalize_email(form.email.data)
    existing = User.by_email(email)
    if existing is None:
        colleague = User(email=email, full_name=form.full_name.data.strip(), role=Role.REQUESTER,
                         establishment_id=establishment.id, invited_by_id=current_user.id, created_at=utcnow())
        db.session.add(colleague)
        db.session.flush()
        queue_activation(colleague, inviter=current_user)
    elif existing.role is Role.REQUESTER and existing.establishment_id is None:
        queue_colleague_invitation_for_existing_account(existing, current_user)
    # Same answer in every case: the page must not reveal who has an account.
    db.session.commit()
    flash(_("Invitation envoyée à %(email)s.", email=email), "success")
    return redirect(url_for("establishments.members"))


@bp.route("/demandes/<int:join_id>/accepter", methods=["POST"])
@role_required(Role.REQUESTER)
def approve_join(join_id: int):
    return _decide(join_id, approve=True)


@bp.route("/demandes/<int:join_id>/refuser", methods=["POST"])
@role_required(Role.REQUESTER)
def refuse_join(join_id: int):
    return _decide(join_id, approve=False)


def _decide(join_id: int, approve: bool):
    if current_user.establishment_id is None or not DecisionForm().validate_on_submit():
        abort(404)
    join_request = db.session.get(JoinRequest, join_id)
    if join_request is None or join_request.establishment_id != current_user.establishment_id:
        abort(404)
    decided = decide_join(db.session, join_request, current_user, approve, utcnow())
    if decided is None:
        flash(_("Cette demande a déjà été traitée."), "info")
        return redirect(url_for("establishments.members"))
    queue_join_decision(join_request)
    db.session.commit()
    _flash_join_decision(join_request)
    return redirect(url_for("establishments.members"))


def _flash_join_decision(join_request: JoinRequest) -> None:
    if join_request.status is JoinStatus.APPROVED:
        flash(_("%(name)s fait maintenant partie de l'établissement.", name=join_request.user.full_name), "success")
    else:
        flash(_("Demande de %(name)s refusée.", name=join_request.user.full_name), "info")
