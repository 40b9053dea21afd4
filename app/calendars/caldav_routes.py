"""« Mon agenda »: connecting one's own CalDAV calendar, where Relais writes one's sessions (#19).

The section is `templates/calendars/_caldav.html`, included in the page of `routes.mine`; it asks `caldav_panel()`
(a context function of this blueprint) for what it shows. A refused connection shows the page again with the
reason next to its field; the password typed is never shown again, nor logged.
"""

from __future__ import annotations

from flask import current_app, flash, g, make_response, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.access import permission
from app.calendars import bp, routes
from app.domain import caldav_push
from app.domain.calendar import ESTABLISHMENT, TRAINER
from app.domain.clock import utcnow
from app.domain.policies import CALDAV
from app.extensions import db
from app.forms import RelaisForm
from app.invitations import event_calendar
from app.models import Role
from app.unit_of_work import perform, run


class CalDAVForm(RelaisForm):
    server_url = StringField(
        _l("Adresse CalDAV de votre agenda"), validators=[DataRequired(_l("Donnez l'adresse de votre agenda.")),
                                                          Length(max=500)],
        description=_l("Elle figure dans les réglages de votre agenda, par exemple pour Nextcloud : "
                       "https://nuage.exemple.fr/remote.php/dav/calendars/identifiant/personnel/ (l'adresse du "
                       "serveur suffit : Relais choisit alors votre premier agenda)."),
        render_kw={"autocomplete": "url", "inputmode": "url", "spellcheck": "false"})
    username = StringField(_l("Identifiant sur ce serveur"),
                           validators=[DataRequired(_l("Donnez votre identifiant.")), Length(max=200)],
                           render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField(
        _l("Mot de passe d'application"),
        validators=[DataRequired(_l("Donnez un mot de passe d'application.")), Length(max=500)],
        description=_l("Un mot de passe créé pour Relais seul, que vous pouvez révoquer sans changer le vôtre. "
                       "Nextcloud : Paramètres personnels → Sécurité → Créer un nouveau mot de passe "
                       "d'application. SOGo, Zimbra, BlueMind : voyez les réglages de votre compte. Relais le garde "
                       "chiffré et ne l'affiche jamais."),
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Connecter mon agenda"))


class CalDAVActionForm(RelaisForm):
    """Disconnecting, or replacing a session changed in the calendar: a button and its token."""


# Where each refusal goes on the form.
FIELD_OF = {"caldav_address": "server_url", "caldav_https": "server_url", "caldav_unreachable": "server_url",
            "caldav_no_calendar": "server_url", "caldav_not_caldav": "server_url", "caldav_credentials": "password"}


@bp.app_context_processor
def _caldav_context() -> dict:
    return {"caldav_panel": caldav_panel}


def caldav_panel() -> dict | None:
    """What the section shows: nothing for the roles Relais sends no invitation to."""
    if not current_user.is_authenticated or not CALDAV.allows(current_user, "connect"):
        return None
    connection = caldav_push.connection_of(db.session, current_user)
    form = g.get("caldav_form")
    if form is None:
        form = CalDAVForm(formdata=None)
    if connection is not None and not form.is_submitted():
        form.server_url.data = connection.server_url
        form.username.data = connection.username
    return {
        "connection": connection,
        "form": form,
        "action_form": CalDAVActionForm(),
        "error": caldav_push.error_message(connection.last_error) if connection else "",
        "problems": caldav_push.problems(db.session, connection) if connection else [],
        "pending": caldav_push.pending_count(db.session, connection) if connection else 0,
    }


def _variant() -> str:
    return TRAINER if current_user.role is Role.TRAINER else ESTABLISHMENT


def _connect(form: CalDAVForm):
    now = utcnow()
    config = current_app.config
    connection = caldav_push.connect(
        db.session, current_user, form.server_url.data, form.username.data, form.password.data,
        caldav_push.keys_from(config), now, allow_http=config["RELAIS_CALDAV_ALLOW_HTTP"],
        timeout=config["RELAIS_CALDAV_TIMEOUT"])
    # The coming sessions go in at once, the later changes as they come.
    for intervention in caldav_push.sessions_to_push(db.session, current_user, now):
        calendar = event_calendar(intervention, _variant(), language=current_user.language).decode("utf-8")
        caldav_push.enqueue_push(db.session, current_user, intervention, calendar, "REQUEST", now)
    return connection


@bp.route("/caldav", methods=["POST"])
@permission("caldav", "connect")
def caldav_connect():
    form = CalDAVForm()
    if form.validate_on_submit():
        outcome = run(lambda: _connect(form))  # a refusal goes next to its field, not in a flash
        if outcome.ok:
            flash(_("Agenda « %(name)s » connecté : vos interventions y seront inscrites dans quelques minutes.",
                    name=outcome.value.calendar_name), "success")
            return redirect(url_for("calendars.mine", _anchor="agenda-caldav"))
        getattr(form, FIELD_OF.get(outcome.refusal.code, "server_url")).errors.append(outcome.message())
    form.password.data = ""  # never written back into the page
    g.caldav_form = form
    response = make_response(routes.mine())  # the page as it is, with this form's errors (and nothing kept)
    response.status_code = 400
    return response


@bp.route("/caldav/deconnecter", methods=["POST"])
@permission("caldav", "disconnect")
def caldav_disconnect():
    if not CalDAVActionForm().validate_on_submit():
        return redirect(url_for("calendars.mine"))
    outcome = perform(lambda: caldav_push.disconnect(db.session, current_user))
    if outcome.ok and outcome.value:
        flash(_("Agenda déconnecté : Relais n'y écrira plus et a oublié le mot de passe d'application. Les "
                "interventions déjà inscrites y restent."), "success")
    return redirect(url_for("calendars.mine", _anchor="agenda-caldav"))


@bp.route("/caldav/remplacer/<int:push_id>", methods=["POST"])
@permission("caldav", "connect")
def caldav_force(push_id: int):
    if not CalDAVActionForm().validate_on_submit():
        return redirect(url_for("calendars.mine"))
    outcome = perform(lambda: caldav_push.force(db.session, current_user, push_id, utcnow()))
    if outcome.ok:
        flash(_("Relais remplacera la version de votre agenda par la sienne dans quelques minutes."), "success")
    return redirect(url_for("calendars.mine", _anchor="agenda-caldav"))
