"""Create an establishment, join one (approved by a member), invite colleagues, approve newcomers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.access import load, own_establishment, permission
from app.domain.clock import utcnow
from app.domain.establishments import (
    CommuneError,
    approvers_of,
    decide_join,
    edit_details,
    existing_establishment,
    register_establishment,
    require_confirmed,
)
from app.domain.identifiers import normalize_siret, normalize_uai
from app.domain.policies import REQUESTER, coordinators_covering
from app.emails import (
    queue_activation,
    queue_colleague_invitation_for_existing_account,
    queue_join_decision,
    queue_join_request,
    queue_join_request_to_coordination,
    queue_registration_to_coordination,
)
from app.establishments import bp
from app.establishments.forms import (
    EstablishmentDetailsForm,
    EstablishmentForm,
    InviteColleagueForm,
    JoinForm,
    normalized_identifier,
)
from app.extensions import db
from app.forms import DecisionForm
from app.models import EstablishmentKind, JoinRequest, JoinStatus, Role, User
from app.models.accounts import normalize_email
from app.unit_of_work import perform, run


def _pending_join() -> JoinRequest | None:
    return db.session.scalar(select(JoinRequest).where(JoinRequest.user_id == current_user.id,
                                                       JoinRequest.status == JoinStatus.PENDING))


@bp.route("/nouveau", methods=["GET", "POST"])
@permission("establishment", "register")
def create():
    if current_user.establishment_id is not None:
        return redirect(url_for("establishments.members"))
    form = EstablishmentForm()
    if form.validate_on_submit():
        kind = EstablishmentKind(form.kind.data)
        uai, siret = normalized_identifier(kind, form.identifier.data)

        def register() -> None:
            establishment = register_establishment(
                db.session, current_user, kind=kind, name=form.name.data, uai=uai, siret=siret,
                address=form.address.data, postcode=form.postcode.data,
                commune_insee=form.commune_choice.data or form.commune_insee.data,
                commune_name=form.commune_name.data, phone=form.phone.data,
                saturday_classes=form.saturday_classes.data, now=utcnow())
            for coordinator in coordinators_covering(db.session, establishment.departement_code, establishment.force):
                queue_registration_to_coordination(coordinator, establishment, current_user)

        try:
            outcome = run(register)
        except CommuneError as problem:
            target = form.commune_insee
            if problem.choices:
                form.commune_choice.choices = [(c.insee_code, f"{c.name} ({c.insee_code})") for c in problem.choices]
                target = form.commune_choice
            target.errors = [*target.errors, problem.message]
        else:
            if outcome.ok:
                flash(_("Votre établissement est enregistré. La coordination départementale va vérifier votre "
                        "inscription : préparez dès maintenant vos demandes, vous pourrez les envoyer dès qu'elle "
                        "l'aura confirmée."), "success")
                return redirect(url_for("main.home"))
            form.identifier.errors.append(outcome.message())
    return render_template("establishments/create.html", form=form)


@bp.route("/rejoindre", methods=["GET", "POST"])
@permission("establishment", "join")
def join():
    if current_user.establishment_id is not None:
        return redirect(url_for("establishments.members"))
    pending = _pending_join()
    form = JoinForm()
    if pending is None and form.validate_on_submit():
        value = form.identifier.data
        establishment = existing_establishment(db.session, normalize_uai(value), normalize_siret(value))
        if establishment is None:
            form.identifier.errors.append(_("Aucun établissement n'est inscrit avec cet identifiant : vous pouvez "
                                            "l'inscrire vous-même."))
        else:
            def ask_to_join():
                join_request = JoinRequest(establishment_id=establishment.id, user_id=current_user.id,
                                           message=form.message.data or None, created_at=utcnow())
                db.session.add(join_request)
                db.session.flush()
                approvers = approvers_of(establishment)
                for member in approvers:
                    queue_join_request(member, join_request)
                if not approvers:
                    # Nobody there to approve: the coordination of the territory decides.
                    for coordinator in coordinators_covering(db.session, establishment.departement_code,
                                                             establishment.force):
                        queue_join_request_to_coordination(coordinator, join_request)

            run(ask_to_join)
            flash(_("Votre demande est envoyée aux membres de %(name)s : vous recevrez un e-mail dès qu'ils "
                    "l'auront acceptée.", name=establishment.name), "success")
            return redirect(url_for("main.home"))
    return render_template("establishments/join.html", form=form, pending=pending)


@bp.route("/")
@permission("establishment", "view")
def members():
    establishment = own_establishment()
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
@permission("establishment", "edit", only=REQUESTER)
def edit():
    establishment = own_establishment()
    if establishment is None:
        return redirect(url_for("main.home"))
    form = EstablishmentDetailsForm(obj=establishment)
    if form.validate_on_submit():
        run(lambda: edit_details(db.session, establishment, utcnow(), name=form.name.data,
                                 address=form.address.data, phone=form.phone.data,
                                 saturday_classes=form.saturday_classes.data))
        flash(_("Les informations de l'établissement sont enregistrées."), "success")
        return redirect(url_for("establishments.members"))
    return render_template("establishments/edit.html", form=form, establishment=establishment)


@bp.route("/inviter", methods=["POST"])
@permission("establishment", "invite")
def invite():
    establishment = own_establishment()
    if establishment is None:
        abort(404)
    form = InviteColleagueForm()
    if not form.validate_on_submit():
        pending = []
        people = db.session.scalars(select(User).where(User.establishment_id == establishment.id)).all()
        return render_template("establishments/members.html", establishment=establishment, people=people,
                               pending=pending, invite_form=form, decision_form=DecisionForm()), 400
    email = normalize_email(form.email.data)

    def invite_colleague():
        require_confirmed(establishment)
        existing = User.by_email(email)
        if existing is None:
            colleague = User(email=email, full_name=form.full_name.data.strip(), role=Role.REQUESTER,
                             establishment_id=establishment.id, invited_by_id=current_user.id, created_at=utcnow())
            db.session.add(colleague)
            db.session.flush()
            queue_activation(colleague, inviter=current_user)
        elif existing.role is Role.REQUESTER and existing.establishment_id is None:
            queue_colleague_invitation_for_existing_account(existing, current_user)

    outcome = run(invite_colleague)  # the same answer in every case: the page must not reveal who has an account
    if not outcome.ok:
        flash(outcome.message(), "warning")
        return redirect(url_for("establishments.members"))
    flash(_("Invitation envoyée à %(email)s.", email=email), "success")
    return redirect(url_for("establishments.members"))


@bp.route("/demandes/<int:join_id>/accepter", methods=["POST"])
@permission("join_request", "decide", only=REQUESTER)
def approve_join(join_id: int):
    return _decide(join_id, approve=True)


@bp.route("/demandes/<int:join_id>/refuser", methods=["POST"])
@permission("join_request", "decide", only=REQUESTER)
def refuse_join(join_id: int):
    return _decide(join_id, approve=False)


def _decide(join_id: int, approve: bool):
    if not DecisionForm().validate_on_submit():
        abort(404)
    join_request = load("join_request", join_id, "decide")

    def decide():
        decide_join(db.session, join_request, current_user, approve, utcnow())
        queue_join_decision(join_request)

    if perform(decide, refused_category="info").ok:
        _flash_join_decision(join_request)
    return redirect(url_for("establishments.members"))


def _flash_join_decision(join_request: JoinRequest) -> None:
    if join_request.status is JoinStatus.APPROVED:
        flash(_("%(name)s fait maintenant partie de l'établissement.", name=join_request.user.full_name), "success")
    else:
        flash(_("Demande de %(name)s refusée.", name=join_request.user.full_name), "info")
