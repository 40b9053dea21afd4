"""The coordinator's queue of requests in their scope: filter, accept into planning, refuse, set the force."""

from __future__ import annotations

from datetime import date
from functools import cache

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.orm import joinedload, selectinload

from app.access import load, may, permission
from app.converters import db_id, query_date
from app.coordination import bp
from app.coordination.forms import (
    AcceptForm,
    CancelForm,
    CancelSessionForm,
    ForceForm,
    RefuseForm,
    RefuseRegistrationForm,
)
from app.domain import autopilot, lifecycle, offers
from app.domain.clock import utcnow
from app.domain.eligibility import Exclusion
from app.domain.establishments import (
    confirm_registration,
    decide_join,
    has_approver,
    orphan_join_requests,
    refuse_registration,
    registrations_to_confirm,
)
from app.domain.matching import rank_intervention
from app.domain.policies import REQUESTS, STAFF, TRAINERS, departements_of
from app.domain.ranking import WEIGHTS
from app.domain.refusals import MESSAGES
from app.domain.request_queue import queue_page
from app.domain.vocabulary import audience_label, topic_label
from app.emails import queue_join_decision, queue_registration_decision
from app.extensions import db
from app.forms import START_CHOICES, DecisionForm, OfferForm, ReopenForm, start_choices
from app.labels import KIND_LABELS
from app.models import (
    Assignment,
    Establishment,
    EstablishmentKind,
    Force,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    JoinRequest,
    JoinStatus,
    RequestEvent,
    RequestStatus,
    RequestWindow,
    SessionReport,
    Trainer,
    User,
)
from app.unit_of_work import perform

PAGE_SIZE = 50
NO_FORCE = "a-determiner"
SCORE_PART_LABELS = {"distance": _l("Distance"), "charge": _l("Charge de travail"),
                     "continuite": _l("Continuité"), "preference": _l("Préférences")}
# What each part measures, for the legend under the candidates (the weights come from the ranking).
SCORE_PART_HELP = {
    "distance": _l("1 quand le formateur est tout près, 0 à la distance la plus longue qu'il accepte."),
    "charge": _l("1 pour le formateur le moins sollicité des candidats, 0 pour le plus chargé."),
    "continuite": _l("1 s'il est déjà intervenu dans cet établissement au cours des 13 derniers mois, sinon 0."),
    "preference": _l("1 si l'horaire tombe dans les disponibilités qu'il a déclarées, 0,5 s'il n'en a déclaré "
                     "aucune."),
}
# Why a trainer already asked is not proposed again, by the status of their offer (app.domain.eligibility).
ASKED_WORDING = {
    "declined": _l("A décliné cette intervention."),
    "expired": _l("A laissé expirer la proposition pour cette intervention."),
    "withdrawn": _l("A été retiré(e) de cette intervention."),
}


def _date_arg(name: str) -> date | None:
    return request.args.get(name, type=query_date)


@bp.route("/demandes")
@permission("request", "list", only=STAFF)
def queue():
    filters = {
        "departement": request.args.get("departement", ""),
        "force": request.args.get("force", ""),
        "statut": request.args.get("statut", RequestStatus.SUBMITTED.value),
        "type": request.args.get("type", ""),
        "du": _date_arg("du"),
        "au": _date_arg("au"),
    }
    query = select(InterventionRequest).where(REQUESTS.rows(current_user))
    if filters["departement"]:
        query = query.where(InterventionRequest.departement_code == filters["departement"])
    if filters["force"] == NO_FORCE:
        query = query.where(InterventionRequest.force.is_(None))
    elif filters["force"] in {f.value for f in Force}:
        query = query.where(InterventionRequest.force == filters["force"])
    if filters["statut"] in {s.value for s in RequestStatus}:
        query = query.where(InterventionRequest.status == filters["statut"])
    if filters["type"] in {k.value for k in EstablishmentKind}:
        query = query.where(InterventionRequest.establishment.has(Establishment.kind == filters["type"]))
    if filters["du"] or filters["au"]:
        # Requests with a window overlapping the chosen period.
        overlap = select(RequestWindow.id).where(RequestWindow.request_id == InterventionRequest.id)
        if filters["du"]:
            overlap = overlap.where(RequestWindow.end_date >= filters["du"])
        if filters["au"]:
            overlap = overlap.where(RequestWindow.start_date <= filters["au"])
        query = query.where(exists(overlap))
    rows, next_after = queue_page(db.session, query, after=request.args.get("apres", type=db_id), limit=PAGE_SIZE)
    departements = departements_of(db.session, current_user)
    args = {key: (value.isoformat() if isinstance(value, date) else value) for key, value in filters.items() if value}
    return render_template("coordination/queue.html", requests=rows, filters=filters, departements=departements,
                           kinds=KIND_LABELS, statuses=list(RequestStatus), NO_FORCE=NO_FORCE, args=args,
                           next_after=next_after)


def _in_scope(request_id: int, action: str) -> InterventionRequest:
    # The establishment joined in: every page here shows it.
    return load("request", request_id, action, options=[joinedload(InterventionRequest.establishment)])


@cache
def _request_page_statement() -> Select:
    """Everything the request page shows in a fixed number of queries, however many groups: the establishment
    joined in, sessions with their trainers and reports, the request's lists, the history with its authors.
    Built once with a bound id: the cache key of its eight loaders took a good part of the page's time."""
    sessions = selectinload(InterventionRequest.interventions)
    return select(InterventionRequest).where(InterventionRequest.id == bindparam("request_id")).options(
        joinedload(InterventionRequest.establishment), selectinload(InterventionRequest.topics),
        selectinload(InterventionRequest.audiences), selectinload(InterventionRequest.windows),
        selectinload(InterventionRequest.events).joinedload(RequestEvent.actor),
        sessions.selectinload(Intervention.assignments).selectinload(Assignment.trainer),
        sessions.selectinload(Intervention.reports).selectinload(SessionReport.trainer))


def _show(item: InterventionRequest, refuse_form=None, cancel_form=None, status=200):
    db.session.scalars(_request_page_statement(), {"request_id": item.id}).one()
    force_form = ForceForm(force=item.force.value if item.force else None)
    return render_template("coordination/show.html", item=item, accept_form=AcceptForm(), reopen_form=ReopenForm(),
                           refuse_form=refuse_form or RefuseForm(), force_form=force_form,
                           cancel_form=cancel_form or CancelForm(), warnings=[], now=utcnow(),
                           open_sessions=lifecycle.OPEN_SESSION,
                           autopilot_notes=autopilot.notes_for_request(db.session, item.id)), status


@bp.route("/demandes/<int:request_id>")
@permission("request", "view", only=STAFF)
def show(request_id: int):
    return _show(_in_scope(request_id, "view"))


@bp.route("/demandes/<int:request_id>/accepter", methods=["POST"])
@permission("request", "review")
def accept(request_id: int):
    item = _in_scope(request_id, "review")
    if not AcceptForm().validate_on_submit():
        abort(400)
    perform(lambda: lifecycle.accept(db.session, item, current_user, utcnow()),
            ngettext("Demande acceptée : %(num)s intervention à programmer.",
                     "Demande acceptée : %(num)s interventions à programmer.", item.group_count),
            refused_category="info")
    return redirect(url_for("coordination.show", request_id=item.id))


@bp.route("/demandes/<int:request_id>/refuser", methods=["POST"])
@permission("request", "review")
def refuse(request_id: int):
    item = _in_scope(request_id, "review")
    form = RefuseForm()
    if not form.validate_on_submit():
        return _show(item, refuse_form=form, status=400)
    reason = form.reason.data.strip()
    perform(lambda: lifecycle.refuse(db.session, item, current_user, reason, utcnow()),
            _("Demande refusée ; l'établissement est prévenu."), refused_category="info")
    return redirect(url_for("coordination.show", request_id=item.id))


@bp.route("/demandes/<int:request_id>/force", methods=["POST"])
@permission("request", "review")
def change_force(request_id: int):
    item = _in_scope(request_id, "review")
    form = ForceForm()
    if not form.validate_on_submit():
        abort(400)
    force = Force(form.force.data)
    outcome = perform(lambda: lifecycle.override_force(db.session, item, current_user, force, utcnow()),
                      _("Force compétente enregistrée."), refused_category="info")
    if outcome.ok and not may("request", "view", item):
        return redirect(url_for("coordination.queue"))  # now handled by the other force's coordinators
    return redirect(url_for("coordination.show", request_id=item.id))


@bp.route("/demandes/<int:request_id>/annuler", methods=["POST"])
@permission("request", "cancel", only=STAFF)
def cancel(request_id: int):
    item = _in_scope(request_id, "cancel")
    form = CancelForm()
    if not form.validate_on_submit():
        return _show(item, cancel_form=form, status=400)
    reason = form.reason.data.strip()
    perform(lambda: lifecycle.cancel_request(db.session, item, current_user, reason, utcnow()),
            _("Demande annulée ; l'établissement et les formateurs concernés sont prévenus."),
            refused_category="info")
    return redirect(url_for("coordination.show", request_id=item.id))


@bp.route("/demandes/<int:request_id>/interventions/<int:intervention_id>/annuler", methods=["GET", "POST"])
@permission("session", "cancel", only=STAFF)
def cancel_session(request_id: int, intervention_id: int):
    """Cancels one session of the request (the others go on); the request's status follows."""
    item = _in_scope(request_id, "view")
    intervention = load("session", intervention_id, "cancel")
    back = url_for("coordination.show", request_id=item.id)
    if intervention.request_id != item.id:
        abort(404)
    if intervention.status not in lifecycle.OPEN_SESSION:
        flash(MESSAGES["session_not_open"], "info")
        return redirect(back)
    form = CancelSessionForm()
    if form.validate_on_submit():
        reason = form.reason.data.strip()
        perform(lambda: lifecycle.cancel_intervention(db.session, intervention, current_user, reason, utcnow()),
                _("L'intervention « %(group)s » est annulée ; l'établissement et les formateurs concernés sont "
                  "prévenus.", group=intervention.group_label), refused_category="info")
        return redirect(back)
    others = [session for session in item.interventions
              if session.id != intervention.id and session.status in lifecycle.OPEN_SESSION]
    return render_template("coordination/cancel_session.html", item=item, intervention=intervention, form=form,
                           others=others), 400 if form.is_submitted() else 200


@bp.route("/demandes/<int:request_id>/interventions/<int:intervention_id>/candidats")
@permission("session", "staff")
def candidates(request_id: int, intervention_id: int):
    item = _in_scope(request_id, "view")
    # The session alone, with the offers and reports its staffing box shows (and their trainers) joined in.
    intervention = db.session.scalars(
        select(Intervention).where(Intervention.id == intervention_id, Intervention.request_id == item.id)
        .options(joinedload(Intervention.assignments).joinedload(Assignment.trainer),
                 joinedload(Intervention.reports).joinedload(SessionReport.trainer))).unique().one_or_none()
    if intervention is None or not may("session", "staff", intervention):
        abort(404)
    # The first starts are enough for the choice, unless the time is already fixed (it may be a later one).
    fixed = intervention.status is InterventionStatus.OFFERED
    ranking = rank_intervention(db.session, intervention.id, utcnow(), max_starts=None if fixed else START_CHOICES)
    trainer_ids = [c.trainer_id for c in ranking.candidates] + list(ranking.excluded)
    # Names and ranks only, as rows: a Trainer object brings its account and unit joined in, for every trainer.
    # Only the trainers of the coordinator's territory are named (the other force's are counted, not named).
    trainers = {row.id: row for row in db.session.execute(
        select(Trainer.id, User.full_name, Trainer.rank).join(User, User.id == Trainer.user_id)
        .where(Trainer.id.in_(trainer_ids), TRAINERS.rows(current_user)))}
    # A trainer on the session (offered or accepted) is shown in its staffing box, not among those set aside.
    set_aside = {trainer_id: reasons for trainer_id, reasons in ranking.excluded.items()
                 if not any(exclusion.rule == "deja-sollicite" for exclusion in reasons)}
    excluded = _worded_exclusions({trainer_id: reasons for trainer_id, reasons in set_aside.items()
                                   if trainer_id in trainers})
    staffable = intervention.status in offers.STAFFABLE
    forms, labels = {}, {}
    zone = item.establishment.timezone
    for candidate in ranking.candidates if staffable else []:
        form = OfferForm(prefix=f"c{candidate.trainer_id}", formdata=None)
        form.starts_at.choices = start_choices(offers.offerable_starts(intervention, candidate.all_starts), zone,
                                               labels)
        forms[candidate.trainer_id] = form
    return render_template("coordination/candidates.html", item=item, intervention=intervention,
                           ranking=ranking, trainers=trainers, part_labels=SCORE_PART_LABELS, offer_forms=forms,
                           part_help=SCORE_PART_HELP, weights=WEIGHTS, staffable=staffable, excluded=excluded,
                           unnamed=len(set_aside) - len(excluded), decimal=format_decimal, percent=format_percent,
                           now=utcnow())


def _worded_exclusions(excluded: dict[int, list[Exclusion]]) -> dict[int, list[str]]:
    """The reasons as the coordinator reads them: topics and audiences by their names in the page's language, an
    earlier answer as it was given."""

    def worded(exclusion: Exclusion) -> str:
        if exclusion.rule == "themes":
            return _("Non habilité(e) pour : %(topics)s.", topics=", ".join(map(topic_label, exclusion.codes)))
        if exclusion.rule == "public":
            return _("Non habilité(e) pour le public : %(audiences)s.",
                     audiences=", ".join(map(audience_label, exclusion.codes)))
        if exclusion.rule == "deja-decline" and exclusion.codes and exclusion.codes[0] in ASKED_WORDING:
            return str(ASKED_WORDING[exclusion.codes[0]])
        return exclusion.reason

    return {trainer_id: [worded(exclusion) for exclusion in reasons] for trainer_id, reasons in excluded.items()}


# -- newcomers of establishments that have nobody to approve them -----------------------------------------


@bp.route("/rattachements")
@permission("join_request", "list")
def join_requests():
    return _newcomers_page()


def _newcomers_page(refuse_form: RefuseRegistrationForm | None = None, refused_id: int | None = None, status=200):
    """Newcomers and new establishments of the territory that wait for the coordination."""
    pending = db.session.scalars(
        orphan_join_requests(current_user)
        .options(selectinload(JoinRequest.user), selectinload(JoinRequest.establishment))
        .order_by(JoinRequest.created_at, JoinRequest.id)).all()
    registrations = db.session.scalars(
        registrations_to_confirm(current_user).options(selectinload(Establishment.members))
        .order_by(Establishment.created_at, Establishment.id)).all()
    refuse_forms = {establishment.id: (refuse_form if establishment.id == refused_id and refuse_form
                                       else RefuseRegistrationForm(prefix=f"e{establishment.id}", formdata=None))
                    for establishment in registrations}
    return render_template("coordination/join_requests.html", pending=pending, decision_form=DecisionForm(),
                           registrations=registrations, refuse_forms=refuse_forms), status


@bp.route("/inscriptions/<int:establishment_id>/confirmer", methods=["POST"])
@permission("establishment", "confirm")
def confirm_establishment(establishment_id: int):
    if not DecisionForm().validate_on_submit():
        abort(400)
    establishment = load("establishment", establishment_id, "confirm")

    def confirm() -> None:
        confirm_registration(db.session, establishment, current_user, utcnow())
        for member in establishment.members:
            queue_registration_decision(member, establishment.name, confirmed=True)

    perform(confirm, _("Inscription de %(name)s confirmée ; ses membres peuvent envoyer leurs demandes.",
                       name=establishment.name), refused_category="info")
    return redirect(url_for("coordination.join_requests"))


@bp.route("/inscriptions/<int:establishment_id>/refuser", methods=["POST"])
@permission("establishment", "confirm")
def refuse_establishment(establishment_id: int):
    establishment = load("establishment", establishment_id, "confirm")
    form = RefuseRegistrationForm(prefix=f"e{establishment.id}")
    if not form.validate_on_submit():
        return _newcomers_page(refuse_form=form, refused_id=establishment.id, status=400)
    name, reason = establishment.name, form.reason.data

    def refuse() -> None:
        for member in refuse_registration(db.session, establishment, current_user):
            queue_registration_decision(member, name, confirmed=False, reason=reason)

    perform(refuse, _("Inscription de %(name)s non confirmée ; la personne qui l'a faite est prévenue.", name=name),
            refused_category="info")
    return redirect(url_for("coordination.join_requests"))


@bp.route("/rattachements/<int:join_id>/accepter", methods=["POST"])
@permission("join_request", "decide", only=STAFF)
def approve_join(join_id: int):
    return _decide_join(join_id, approve=True)


@bp.route("/rattachements/<int:join_id>/refuser", methods=["POST"])
@permission("join_request", "decide", only=STAFF)
def refuse_join(join_id: int):
    return _decide_join(join_id, approve=False)


def _decide_join(join_id: int, approve: bool):
    if not DecisionForm().validate_on_submit():
        abort(400)
    join_request = load("join_request", join_id, "decide")
    if has_approver(db.session, join_request.establishment_id):
        flash(_("Un membre actif de l'établissement peut maintenant décider : la demande lui revient."), "info")
        return redirect(url_for("coordination.join_requests"))

    def decide():
        decide_join(db.session, join_request, current_user, approve, utcnow())
        queue_join_decision(join_request)

    if not perform(decide, refused_category="info").ok:
        return redirect(url_for("coordination.join_requests"))
    if join_request.status is JoinStatus.APPROVED:
        flash(_("%(name)s est rattaché(e) à %(establishment)s.", name=join_request.user.full_name,
                establishment=join_request.establishment.name), "success")
    else:
        flash(_("Demande de %(name)s refusée.", name=join_request.user.full_name), "info")
    return redirect(url_for("coordination.join_requests"))
