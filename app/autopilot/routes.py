"""The autopilot's pages: each scope's mode (manual, proposed, automatic), chosen by its coordinators, and the
proposal a coordinator sends in one click (its list is on their home page)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app.access import may, permission
from app.autopilot import bp
from app.autopilot.forms import MODE_CHOICES, MODE_HELP, ModeForm, SendProposalForm
from app.domain.autopilot import AutopilotSettings, modes_of, scopes_of, send_proposal, set_mode
from app.domain.clock import utcnow
from app.domain.policies import departements_of
from app.domain.refusals import MESSAGES
from app.domain.vocabulary import force_label
from app.extensions import db
from app.formatting import plural_choice
from app.models import AutopilotMode, AutopilotProposal, Departement, Force, Intervention, Role
from app.unit_of_work import perform, run


def _scope_or_404(departement_code: str, force: str) -> tuple[Departement, Force]:
    departement = db.session.get(Departement, departement_code)
    if departement is None or force not in {f.value for f in Force}:
        abort(404)
    if not may("autopilot", "configure", (departement.code, Force(force))):
        abort(404)
    return departement, Force(force)


def _prefix(scope: tuple[str, Force]) -> str:
    """Each scope's form has its own field names and ids (several on one page)."""
    return f"{scope[0]}-{scope[1].value}"


def _page(chosen: str, forms: dict | None = None, status: int = 200):
    departements = departements_of(db.session, current_user) if current_user.role is Role.ADMIN else []
    scopes = scopes_of(db.session, current_user, chosen or None)
    modes = modes_of(db.session, scopes)
    labels = {code: Departement.label_of(code, name) for code, name in db.session.execute(
        select(Departement.code, Departement.name).where(Departement.code.in_({code for code, _ in scopes})))}
    rows = []
    for scope in scopes:
        form = (forms or {}).get(scope) or ModeForm(formdata=None, prefix=_prefix(scope), mode=modes[scope].value)
        rows.append({"code": scope[0], "force": scope[1], "label": f"{labels[scope[0]]}, {force_label(scope[1])}",
                     "mode": modes[scope], "form": form})
    return render_template("autopilot/settings.html", rows=rows, departements=departements, chosen=chosen,
                           MODE_CHOICES=MODE_CHOICES, MODE_HELP=MODE_HELP, AutopilotMode=AutopilotMode), status


@bp.route("/")
@permission("autopilot", "configure")
def settings():
    chosen = request.args.get("departement", "")
    if current_user.role is not Role.ADMIN or chosen not in {code for code, _ in departements_of(db.session,
                                                                                                 current_user)}:
        chosen = ""
    return _page(chosen)


@bp.route("/<departement_code>/<force>", methods=["POST"])
@permission("autopilot", "configure")
def set_scope_mode(departement_code: str, force: str):
    departement, force_ = _scope_or_404(departement_code, force)
    form = ModeForm(prefix=_prefix((departement.code, force_)))
    chosen = departement.code if current_user.role is Role.ADMIN else ""
    if not form.validate_on_submit():
        return _page(chosen, {(departement.code, force_): form}, status=400)
    mode = AutopilotMode(form.mode.data)
    run(lambda: set_mode(db.session, departement.code, force_, mode, current_user, utcnow()))
    label = dict(MODE_CHOICES)[mode.value]
    flash(_("Mode « %(mode)s » enregistré pour %(territory)s.", mode=label,
            territory=f"{departement.label}, {force_label(force_)}"), "success")
    return redirect(url_for("autopilot.settings", **({"departement": chosen} if chosen else {})))


@bp.route("/propositions/<int:proposal_id>/envoyer", methods=["POST"])
@permission("autopilot", "send")
def send(proposal_id: int):
    proposal = db.session.get(AutopilotProposal, proposal_id)
    if proposal is None or not may("autopilot", "send", (proposal.departement_code, proposal.force)):
        abort(404)
    form = SendProposalForm()
    if not form.validate_on_submit():
        abort(400)
    settings_ = AutopilotSettings.from_config(current_app.config)
    outcome = perform(lambda: send_proposal(db.session, proposal_id, form.fingerprint.data, current_user, utcnow(),
                                            settings_))
    if outcome.ok:
        result = outcome.value
        flash(_("%(offers)s pour %(sessions)s.",
                offers=ngettext("%(count)s proposition envoyée", "%(count)s propositions envoyées",
                                plural_choice(result.offers), count=result.offers),
                sessions=ngettext("%(count)s intervention", "%(count)s interventions",
                                  plural_choice(result.sessions), count=result.sessions)), "success")
        for intervention_id, code in result.skipped.items():
            intervention = db.session.get(Intervention, intervention_id)
            flash(_("Intervention « %(group)s » non proposée : %(reason)s", group=intervention.group_label,
                    reason=MESSAGES[code]), "warning")
    return redirect(url_for("main.home"))
