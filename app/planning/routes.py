"""Planning a period: preview the optimal plan of a territory, then send its offers."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.access import may, permission
from app.domain.agenda import local_today
from app.domain.clock import utcnow
from app.domain.offers import OfferSettings
from app.domain.plan_builder import PlanRun, commit_plan, run_planning
from app.domain.policies import departements_of
from app.domain.reference import timezone_for_departement
from app.domain.refusals import MESSAGES
from app.extensions import db
from app.formatting import plural_choice
from app.models import Force, Role
from app.planning import bp
from app.planning.forms import CommitPlanForm, PlanForm
from app.unit_of_work import run

DEFAULT_PERIOD = timedelta(weeks=4)


def _effective_force(departement_code: str, chosen: str) -> Force | None:
    """The force to plan: the one chosen, else the coordinator's only force there; 404 outside the scope."""
    if chosen:
        if not may("planning", "plan", (departement_code, chosen)):
            abort(404)
        return Force(chosen)
    if current_user.role is Role.ADMIN:
        return None
    forces = {scope.force for scope in current_user.scopes if scope.departement_code == departement_code}
    if not forces:
        abort(404)
    return None if None in forces or len(forces) > 1 else forces.pop()


def _run(departement_code: str, force: Force | None, date_from: date, date_to: date) -> PlanRun:
    return run_planning(db.session, date_from=date_from, date_to=date_to, departement_codes=[departement_code],
                        force=force, now=utcnow(), time_limit=current_app.config["RELAIS_PLANNING_TIME_LIMIT"])


def _render(form: PlanForm, run: PlanRun | None, force: Force | None = None, status: int = 200):
    commit_form = None
    trainers = sessions = {}
    if run is not None:
        commit_form = CommitPlanForm(formdata=None, date_from=form.date_from.data.isoformat(),
                                     date_to=form.date_to.data.isoformat(), departement=form.departement.data,
                                     force=force.value if force else "", fingerprint=run.fingerprint)
        trainers = run.problem.trainers
        sessions = run.problem.interventions
    return render_template("planning/preview.html", form=form, run=run, commit_form=commit_form,
                           trainers=trainers, sessions=sessions), status


@bp.route("/")
@permission("planning", "plan")
def preview():
    form = PlanForm(request.args)
    form.departement.choices = departements_of(db.session, current_user)
    if not request.args:
        # The coming four weeks of the first département, as a coordinator plans most often: a period to adjust,
        # not to type (its first day local to the département: overseas ones are hours away).
        code = form.departement.choices[0][0] if form.departement.choices else None
        zone = timezone_for_departement(code) if code else current_app.config["RELAIS_DEFAULT_TIMEZONE"]
        form.date_from.data = local_today(utcnow(), zone) + timedelta(days=1)
        form.date_to.data = form.date_from.data + DEFAULT_PERIOD - timedelta(days=1)
        return _render(form, None)
    if not form.validate():
        return _render(form, None, status=400)
    force = _effective_force(form.departement.data, form.force.data)
    return _render(form, _run(form.departement.data, force, form.date_from.data, form.date_to.data), force)


@bp.route("/envoyer", methods=["POST"])
@permission("planning", "plan")
def commit():
    posted = CommitPlanForm()
    if not posted.validate_on_submit():
        abort(400)
    # The previewed period and territory, read and checked as the preview reads them.
    form = PlanForm(formdata=MultiDict({name: posted[name].data or "" for name in
                                        ("date_from", "date_to", "departement", "force")}))
    form.departement.choices = departements_of(db.session, current_user)
    if not form.validate():
        return _render(form, None, status=400)
    force = _effective_force(form.departement.data, form.force.data)
    plan = _run(form.departement.data, force, form.date_from.data, form.date_to.data)
    if plan.fingerprint != posted.fingerprint.data:
        # Something moved since the preview (an answer, a request, an availability): show the new plan.
        flash(_("Le plan a changé depuis l'aperçu : voici le plan à jour. Vérifiez-le, puis envoyez-le."), "warning")
        return _render(form, plan, force, status=409)
    result = run(lambda: commit_plan(db.session, plan.problem, plan.plan, current_user, utcnow(),
                                     OfferSettings.from_config(current_app.config))).value
    flash(_("%(offers)s pour %(sessions)s.",
            offers=ngettext("%(count)s proposition envoyée", "%(count)s propositions envoyées",
                            plural_choice(result.offers), count=result.offers),
            sessions=ngettext("%(count)s intervention", "%(count)s interventions",
                              plural_choice(result.offered_sessions), count=result.offered_sessions)), "success")
    for intervention_id, code in result.skipped.items():
        label = plan.problem.interventions[intervention_id].group_label
        flash(_("Intervention « %(group)s » non proposée : %(reason)s", group=label, reason=MESSAGES[code]),
              "warning")
    return redirect(url_for("main.home"))
