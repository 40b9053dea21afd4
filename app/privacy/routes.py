"""« Mes données » (every role), the correction request, the retention periods (national administration) and the
public legal pages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

from flask import Response, abort, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.access import load, permission, public
from app.domain import my_data, retention
from app.domain.clock import utcnow
from app.emails import absolute_url, queue_templated_email
from app.extensions import db
from app.formatting import day_text
from app.models import Role
from app.privacy import bp
from app.privacy.forms import (
    KIND_LABELS,
    KIND_STARTS,
    UNIT_LABELS,
    CorrectionForm,
    DepartureForm,
    RetentionForm,
)
from app.unit_of_work import perform

# What Relais shows of a person to others, by role (the « what is shared with whom » section).
SHARED = {
    Role.REQUESTER: [
        (_l("Votre nom, votre téléphone et votre adresse de contact sur place"),
         _l("la coordination départementale de la police ou de la gendarmerie et les formateurs de vos "
            "interventions")),
        (_l("Vos demandes et vos avis"), _l("la coordination départementale ; les avis, sans votre nom, dans les "
                                           "statistiques nationales")),
        (_l("Vos interventions (agenda)"), _l("votre agenda personnel, si vous l'avez relié à Relais")),
    ],
    Role.TRAINER: [
        (_l("Votre grade et votre nom"), _l("les établissements où vous intervenez, dans les invitations")),
        (_l("Votre fiche, vos disponibilités, vos comptes rendus"), _l("la coordination de votre territoire et de "
                                                                       "votre force")),
        (_l("Le nombre d'interventions et de personnes sensibilisées"), _l("les statistiques, sans votre nom")),
    ],
    Role.COORDINATOR: [
        (_l("Votre nom et votre adresse"), _l("les établissements et formateurs de votre territoire, dans les "
                                             "e-mails et invitations (adresse de réponse)")),
    ],
    Role.ADMIN: [
        (_l("Votre nom"), _l("les personnes que vous invitez, dans l'invitation")),
    ],
}


ROLE_LABELS = {Role.REQUESTER: _l("Personnel d'établissement"), Role.TRAINER: _l("Formateur ou formatrice"),
               Role.COORDINATOR: _l("Coordinateur ou coordinatrice"), Role.ADMIN: _l("Administrateur national")}
ASSIGNMENT_STATUS = {"offered": _l("Proposée"), "accepted": _l("Acceptée"), "declined": _l("Déclinée"),
                     "expired": _l("Expirée"), "withdrawn": _l("Retirée"), "cancelled": _l("Annulée")}


@bp.route("/compte/mes-donnees")
@permission("privacy", "own_data")
def my_data_page():
    data = my_data.collect(db.session, current_user)
    return render_template("privacy/my_data.html", data=data, shared=SHARED.get(current_user.role, []),
                           roles={str(role): label for role, label in ROLE_LABELS.items()},
                           assignment_status=ASSIGNMENT_STATUS)


@bp.route("/compte/mes-donnees.json")
@permission("privacy", "own_data")
def my_data_json():
    data = my_data.collect(db.session, current_user)
    data["generated_at"] = utcnow()
    data["shared_with"] = [{"what": str(what), "with": str(whom)} for what, whom in SHARED.get(current_user.role, [])]
    body = json.dumps(data, default=my_data.plain, ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="relais-mes-donnees-{current_user.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/compte/mes-donnees/correction", methods=["GET", "POST"])
@permission("privacy", "correct")
def correction():
    form = CorrectionForm()
    recipients = my_data.correction_recipients(db.session, current_user)
    to_coordination = bool(recipients) and recipients[0].role is Role.COORDINATOR
    if form.validate_on_submit():
        if not my_data.corrections_left_today(db.session, current_user, utcnow()):
            form.message.errors.append(_("Vous avez déjà envoyé %(count)s demandes aujourd'hui : attendez la "
                                         "réponse, ou réessayez demain.", count=my_data.CORRECTIONS_PER_DAY))
        else:
            person, message = current_user._get_current_object(), form.message.data.strip()

            def send():
                now = utcnow()
                correction = my_data.record_correction(db.session, person, message, recipients, now)
                for recipient in recipients:
                    queue_templated_email(recipient, "correction_request", _l("Demande de correction de données"),
                                          dedup_key=f"correction:{correction.id}:{recipient.id}", person=person,
                                          message=message, link=absolute_url("privacy.my_data_page"))
                return correction

            outcome = perform(send, _("Votre demande de correction est envoyée. Vous recevrez une réponse par "
                                      "e-mail."))
            if outcome.ok:
                return redirect(url_for("privacy.my_data_page"))
    return render_template("privacy/correction.html", form=form, to_coordination=to_coordination,
                           has_recipients=bool(recipients))


@bp.route("/admin/conservation", methods=["GET", "POST"])
@permission("privacy", "retention")
def retention_settings():
    periods = retention.all_periods(db.session)
    form = RetentionForm(data={kind: p.value for kind, p in periods.items()})
    if form.validate_on_submit():
        values = {kind: form[kind].data for kind in retention.KINDS}
        actor = current_user._get_current_object()
        outcome = perform(lambda: retention.save_periods(db.session, values, actor, utcnow()),
                          _("Durées de conservation enregistrées. Elles s'appliquent au prochain passage des "
                            "tâches périodiques."))
        if outcome.ok:
            return redirect(url_for("privacy.retention_settings"))
    return render_template("privacy/retention.html", form=form, kinds=retention.KINDS, periods=periods,
                           labels=KIND_LABELS, starts=KIND_STARTS, units=UNIT_LABELS)


@bp.route("/formateurs/<int:trainer_id>/depart", methods=["GET", "POST"])
@permission("trainer", "edit")
def departure(trainer_id: int):
    """The coordination records that a trainer left the network: from then on inactive, archived then anonymised
    after the retention period (app.domain.retention)."""
    trainer = load("trainer", trainer_id, "edit")
    if trainer.anonymised_at is not None:
        abort(404)
    periods = retention.all_periods(db.session)
    form = DepartureForm(data={"departed_on": trainer.departed_on})
    if form.validate_on_submit():
        if form.departed_on.data > utcnow().date():
            form.departed_on.errors.append(_("La date de départ ne peut pas être à venir."))
        else:
            day = form.departed_on.data
            outcome = perform(lambda: retention.mark_departed(db.session, trainer, day),
                              _("Départ enregistré : la fiche sera archivée puis anonymisée le %(day)s.",
                                day=day_text(periods["departed_trainers"].after(
                                    datetime.combine(day, time(0), tzinfo=UTC)).date())))
            if outcome.ok:
                return redirect(url_for("trainers.detail", trainer_id=trainer.id))
    return render_template("privacy/departure.html", form=form, trainer=trainer,
                           period=periods["departed_trainers"], units=UNIT_LABELS)


# -- the legal pages, open to everyone ---------------------------------------------------------------------------


def publisher() -> dict:
    """The deploying service's details (RELAIS_PUBLISHER_*): an empty one is shown « à compléter »."""
    config = current_app.config
    return {name: config.get(f"RELAIS_PUBLISHER_{name.upper()}", "") for name in
            ("name", "address", "director", "email", "host", "host_address", "dpo_email")}


@bp.route("/mentions-legales")
@public
def legal_notice():
    return render_template("privacy/legal_notice.html", publisher=publisher())


@bp.route("/donnees-personnelles")
@public
def personal_data():
    periods = retention.all_periods(db.session)
    return render_template("privacy/personal_data.html", publisher=publisher(), periods=periods,
                           units=UNIT_LABELS)


def accessibility_results() -> dict | None:
    """The committed results of the automated accessibility tests (`make accessibility-report`), or None."""
    path = Path(current_app.config.get("RELAIS_ACCESSIBILITY_RESULTS")
                or Path(current_app.root_path).parent / "docs" / "accessibility-results.json")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
        results["day"] = date.fromisoformat(results["date"][:10])
        return results
    except (OSError, ValueError, KeyError, TypeError):
        return None


@bp.route("/accessibilite")
@public
def accessibility():
    return render_template("privacy/accessibility.html", publisher=publisher(), results=accessibility_results())
