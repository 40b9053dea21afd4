"""Home page per role: what needs my attention."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.access import public
from app.domain.certification import WARNING_WINDOW, certification_status
from app.domain.clock import utcnow
from app.extensions import db
from app.main import bp
from app.models import (
    CoordinatorScope,
    Establishment,
    MessageStatus,
    OutgoingMessage,
    Role,
    Trainer,
    User,
)
from app.models.trainers import trainer_departement
from app.scoping import trainers_in_scope


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return render_template("main/index.html")


@bp.route("/accueil")
@login_required
def home():
    role_pages = {
        Role.REQUESTER: _requester_home,
        Role.TRAINER: _trainer_home,
        Role.COORDINATOR: _coordinator_home,
        Role.ADMIN: _admin_home,
    }
    return role_pages[current_user.role]()


home.allowed_roles = set(Role)


def _requester_home():
    return render_template("main/home_requester.html", establishment=current_user.establishment)


def _trainer_home():
    trainer = db.session.scalar(select(Trainer).where(Trainer.user_id == current_user.id))
    status = certification_status(trainer.certified_since, utcnow().date()) if trainer else None
    return render_template("main/home_trainer.html", trainer=trainer, certification=status)


def _coordinator_home():
    today = utcnow().date()
    trainers = db.session.scalars(trainers_in_scope(current_user).order_by(Trainer.matricule)).unique().all()
    statuses = [(trainer, certification_status(trainer.certified_since, today)) for trainer in trainers]
    attention = [(t, s) for t, s in statuses if s.state != "valid"]
    departement_codes = {scope.departement_code for scope in current_user.scopes}
    establishment_count = db.session.scalar(
        select(func.count(Establishment.id)).where(Establishment.departement_code.in_(departement_codes))
    )
    return render_template("main/home_coordinator.html", scopes=current_user.scopes, trainer_count=len(trainers),
                           attention=attention, establishment_count=establishment_count,
                           warning_days=WARNING_WINDOW.days)


def _admin_home():
    users_by_role = dict(db.session.execute(select(User.role, func.count(User.id)).group_by(User.role)).all())
    pending_invitations = db.session.scalar(
        select(func.count(User.id)).where(User.activated_at.is_(None))
    )
    outbox = dict(db.session.execute(
        select(OutgoingMessage.status, func.count(OutgoingMessage.id)).group_by(OutgoingMessage.status)
    ).all())
    trainers_by_force = dict(db.session.execute(
        select(Trainer.force, func.count(Trainer.id)).where(Trainer.active).group_by(Trainer.force)
    ).all())
    departements_with_trainers = db.session.scalar(
        select(func.count(func.distinct(trainer_departement.c.departement_code)))
    )
    coordinators_without_scope = db.session.scalar(
        select(func.count(User.id)).where(User.role == Role.COORDINATOR,
                                          ~User.id.in_(select(CoordinatorScope.user_id)))
    )
    return render_template("main/home_admin.html", users_by_role=users_by_role,
                           pending_invitations=pending_invitations, outbox=outbox,
                           trainers_by_force=trainers_by_force, departements_with_trainers=departements_with_trainers,
                           coordinators_without_scope=coordinators_without_scope,
                           MessageStatus=MessageStatus, Role=Role)
