"""A trainer's page of one session they are offered or on: what they read on a phone before leaving."""

from __future__ import annotations

from flask import abort, render_template
from sqlalchemy.orm import joinedload, selectinload

from app.access import load, own_trainer, permission
from app.domain.briefing import session_brief
from app.domain.clock import utcnow
from app.forms import AcceptOfferForm
from app.models import Assignment, Intervention, InterventionRequest, SessionReport, Trainer
from app.trainers import bp


@bp.route("/mes-interventions/<int:intervention_id>")
@permission("session", "brief")
def session(intervention_id: int):
    trainer = own_trainer()
    request_of = joinedload(Intervention.request)
    intervention = load("session", intervention_id, "brief", options=[
        request_of.joinedload(InterventionRequest.establishment),
        request_of.selectinload(InterventionRequest.topics), request_of.selectinload(InterventionRequest.audiences),
        selectinload(Intervention.assignments).joinedload(Assignment.trainer).joinedload(Trainer.user),
        selectinload(Intervention.reports).selectinload(SessionReport.topics)])
    brief = session_brief(intervention, trainer, utcnow())
    if brief is None:
        abort(404)
    accept_form = AcceptOfferForm(prefix=f"a{brief.assignment.id}")
    return render_template("trainers/session.html", brief=brief, intervention=intervention,
                           session_request=intervention.request, establishment=intervention.request.establishment,
                           accept_form=accept_form)
