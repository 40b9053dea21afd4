"""Home page per role: what needs my attention."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.access import permission, public
from app.domain.autopilot import home_summary, note_visit
from app.domain.certification import WARNING_WINDOW, certification_status
from app.domain.clock import utcnow
from app.domain.establishments import orphan_join_requests, registrations_to_confirm
from app.domain.lifecycle import feedback_possible
from app.domain.policies import ESTABLISHMENTS, REQUESTS, SESSIONS, TRAINERS
from app.extensions import db
from app.forms import AcceptOfferForm, ConfirmForm
from app.main import bp
from app.models import (
    CoordinatorScope,
    Establishment,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    JoinRequest,
    JoinStatus,
    MessageStatus,
    OutgoingMessage,
    RequestStatus,
    Role,
    Trainer,
    User,
)
from app.models.trainers import trainer_departement
from app.unit_of_work import run

HOME_OFFERS = 3  # offers on a trainer's home (each a card, long on a phone); the others on /propositions/
HOME_REPORTS = 10  # reports to file on a trainer's home, the oldest first; the next ones once these are filed
HOME_REQUESTS = 10  # requests, drafts and renewals on a requester's home; the others on /demandes/
HOME_FLAGGED = 50  # sessions to take back on a coordinator's home, the oldest first; the next ones once these are done


@bp.route("/healthz")
@public
def healthz():
    """For the load balancer and monitoring: the app answers and its database does."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "erreur", "database": "injoignable"}, 503
    return {"status": "ok", "database": "ok"}, 200


@bp.route("/favicon.ico")
@public
def favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the page's <link rel="icon"> says: the same SVG
    (browsers read the type, not the name), rather than a 404 logged on every first visit."""
    return send_from_directory(current_app.static_folder, "img/favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return render_template("main/index.html")


@bp.route("/accueil")
@permission("account", "home")
def home():
    role_pages = {
        Role.REQUESTER: _requester_home,
        Role.TRAINER: _trainer_home,
        Role.COORDINATOR: _coordinator_home,
        Role.ADMIN: _admin_home,
    }
    return role_pages[current_user.role]()


def _requester_home():
    establishment = current_user.establishment
    if establishment is None:
        pending = db.session.scalar(select(JoinRequest).where(JoinRequest.user_id == current_user.id,
                                                              JoinRequest.status == JoinStatus.PENDING))
        return render_template("main/home_requester.html", establishment=None, pending_join=pending)
    now = utcnow()
    mine = REQUESTS.rows(current_user)
    requests = db.session.scalars(
        select(InterventionRequest).where(mine)
        .options(selectinload(InterventionRequest.windows), selectinload(InterventionRequest.audiences))
        .order_by(InterventionRequest.id.desc()).limit(HOME_REQUESTS)).all()
    sessions = select(Intervention).join(InterventionRequest).where(mine)
    upcoming = db.session.scalars(
        sessions.where(Intervention.starts_at >= now, Intervention.status != InterventionStatus.CANCELLED)
        .options(joinedload(Intervention.request)).order_by(Intervention.starts_at).limit(10)).all()
    feedback_due = [session for session in db.session.scalars(
        sessions.where(Intervention.status.in_((InterventionStatus.DONE, InterventionStatus.CONFIRMED)),
                       Intervention.ends_at >= now - timedelta(days=60), ~Intervention.feedback.has())
        .order_by(Intervention.ends_at)).all() if feedback_possible(session, now)]
    drafts = db.session.scalars(select(InterventionRequest).where(mine, InterventionRequest.status
                                                                  == RequestStatus.DRAFT)
                                .order_by(InterventionRequest.id.desc()).limit(HOME_REQUESTS)).all()
    joins = db.session.scalar(select(func.count(JoinRequest.id)).where(
        JoinRequest.establishment_id == establishment.id, JoinRequest.status == JoinStatus.PENDING))
    # Last year's sessions not yet renewed: the law asks for at least one session a year.
    copy = aliased(InterventionRequest)
    renewals = db.session.scalars(select(InterventionRequest).where(
        mine, InterventionRequest.status == RequestStatus.DONE,
        InterventionRequest.created_at.between(now - timedelta(days=450), now - timedelta(days=270)),
        ~exists().where(copy.copied_from_id == InterventionRequest.id)).order_by(InterventionRequest.id)
        .limit(HOME_REQUESTS)).all()
    return render_template("main/home_requester.html", establishment=establishment, requests=requests,
                           upcoming=upcoming, feedback_due=feedback_due, drafts=drafts, pending_joins=joins,
                           renewals=renewals, confirm_form=ConfirmForm())


def _trainer_home():
    from app.domain.roster import trainer_timezone, upcoming_busy, upcoming_periods

    trainer = db.session.scalar(select(Trainer).where(Trainer.user_id == current_user.id))
    status = certification_status(trainer.certified_since, utcnow().date()) if trainer else None
    context = {}
    if trainer:
        from app.domain.offers import pending_offer_count, pending_offers
        from app.domain.reports import reports_due, reports_due_count

        now = utcnow()
        # The first offers only: the whole list, page by page, is one link away (`offers.index`).
        offers = pending_offers(db.session, trainer.id, now, limit=HOME_OFFERS)[0]
        timezone_name = trainer_timezone(db.session, trainer)
        context = {"timezone_name": timezone_name,
                   "busy": upcoming_busy(db.session, trainer.id, now),
                   "exceptions": upcoming_periods(trainer, timezone_name, now),
                   "pending_offers": offers,
                   "offer_count": pending_offer_count(db.session, trainer.id, now),
                   "reports_due": reports_due(db.session, trainer.id, now, limit=HOME_REPORTS),
                   "reports_due_count": reports_due_count(db.session, trainer.id, now),
                   "accept_forms": {a.id: AcceptOfferForm(prefix=f"a{a.id}") for a in offers}}
    return render_template("main/home_trainer.html", trainer=trainer, certification=status, **context)


def _coordinator_home():
    # The visit is recorded first: its commit expires what the session holds (the page's rows are read after it).
    since = run(lambda: note_visit(db.session, current_user, utcnow())).value
    today = utcnow().date()
    trainers = db.session.scalars(select(Trainer).where(TRAINERS.rows(current_user))
                                  .order_by(Trainer.matricule)).unique().all()
    statuses = [(trainer, certification_status(trainer.certified_since, today)) for trainer in trainers]
    attention = [(t, s) for t, s in statuses if s.state != "valid"]
    establishment_count = db.session.scalar(
        select(func.count(Establishment.id)).where(ESTABLISHMENTS.rows(current_user))
    )
    waiting_requests = db.session.scalar(
        select(func.count(InterventionRequest.id)).where(REQUESTS.rows(current_user),
                                                         InterventionRequest.status == RequestStatus.SUBMITTED))
    sessions = select(Intervention).where(SESSIONS.rows(current_user))
    to_take_back = sessions.where(Intervention.attention_reason.is_not(None),
                                  Intervention.status.in_((InterventionStatus.TO_SCHEDULE, InterventionStatus.OFFERED)))
    # The oldest first, a page's worth: the next ones show as these are taken back; the total is said.
    flagged = db.session.scalars(
        to_take_back.options(selectinload(Intervention.request).options(
            selectinload(InterventionRequest.establishment), selectinload(InterventionRequest.windows)))
        .order_by(Intervention.attention_at).limit(HOME_FLAGGED)).all()
    flagged_count = (len(flagged) if len(flagged) < HOME_FLAGGED else
                     db.session.scalar(to_take_back.with_only_columns(func.count(Intervention.id))))
    counts = dict(db.session.execute(
        sessions.where(Intervention.status.in_((InterventionStatus.TO_SCHEDULE, InterventionStatus.OFFERED)))
        .with_only_columns(Intervention.status, func.count(Intervention.id)).group_by(Intervention.status)).all())
    orphan_joins = db.session.scalar(orphan_join_requests(current_user).with_only_columns(func.count(JoinRequest.id)))
    registrations = db.session.scalar(registrations_to_confirm(current_user)
                                      .with_only_columns(func.count(Establishment.id)))
    autopilot = home_summary(db.session, current_user, since, SESSIONS.rows(current_user))
    return render_template("main/home_coordinator.html", autopilot=autopilot, scopes=current_user.scopes,
                           trainer_count=len(trainers),
                           orphan_joins=orphan_joins, registrations=registrations,
                           flagged=flagged, flagged_count=flagged_count,
                           to_schedule=counts.get(InterventionStatus.TO_SCHEDULE, 0),
                           offered=counts.get(InterventionStatus.OFFERED, 0),
                           attention=attention, establishment_count=establishment_count,
                           waiting_requests=waiting_requests,
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
