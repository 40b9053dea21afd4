"""Webhook subscriptions (#22): an establishment's staff (their establishment's requests and sessions) and the
coordination (a territory of their scope) subscribe a URL to events, see the log of deliveries, replay one,
pause and resume, change the secret, delete. The rules are in app.domain.webhooks; who may do what in the
policy `webhook` (app.domain.policies)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Optional

from app.access import load, permission
from app.domain import caldav_push, webhooks
from app.domain.clock import utcnow
from app.domain.keyset import cut
from app.domain.policies import WEBHOOKS, departements_of
from app.domain.vocabulary import force_label
from app.extensions import db
from app.forms import MaxLength, MultiCheckboxField, RelaisForm
from app.models import Force, Role, WebhookSubscription
from app.unit_of_work import perform, run
from app.webhooks import bp

PAGE_SIZE = 25


class SubscriptionForm(RelaisForm):
    territory = SelectField(_l("Territoire"), choices=[], validate_choice=True,
                            description=_l("Les demandes et interventions de ce territoire seront envoyées."))
    url = StringField(_l("Adresse de réception (URL)"),
                      validators=[DataRequired(_l("Donnez l'adresse qui recevra les envois.")), MaxLength(max=500)],
                      description=_l("Une adresse https:// publique, qui répond 2xx en quelques secondes."),
                      render_kw={"inputmode": "url", "spellcheck": "false", "autocomplete": "url"})
    events = MultiCheckboxField(_l("Événements envoyés"), choices=[],
                                validators=[DataRequired(_l("Choisissez au moins un événement."))])
    description = StringField(_l("Description (facultative)"), validators=[Optional(), MaxLength(max=200)],
                              description=_l("Pour vous y retrouver : l'outil qui reçoit, son responsable…"))
    submit = SubmitField(_l("Enregistrer"))


class ActionForm(RelaisForm):
    """A button and its token: pause, resume, new secret, delete, replay."""


FIELD_OF = {"webhook_url_invalid": "url", "webhook_url_https": "url", "webhook_url_unknown_host": "url",
            "webhook_url_private": "url", "webhook_no_event": "events", "webhook_no_owner": "territory"}


def _settings() -> webhooks.Settings:
    return webhooks.Settings.from_config(current_app.config)


def _keys():
    return caldav_push.keys_from(current_app.config)


def _territory_value(code: str, force: Force | None) -> str:
    return f"{code}:{force.value if force else ''}"


def _territory_choices() -> list[tuple[str, str]]:
    """A coordinator's scopes; every département (both forces) for an administrator."""
    if current_user.role is Role.ADMIN:
        return [(f"{code}:", _("%(departement)s, les deux forces", departement=label))
                for code, label in departements_of(db.session, current_user)]
    return [(_territory_value(code, force),
             f"{code}, {force_label(force) if force else _('les deux forces')}")
            for code, force in webhooks.territory_scopes(current_user)]


def _territory(value: str | None) -> tuple[str, Force | None] | None:
    code, _sep, force = (value or "").partition(":")
    if not code:
        return None
    try:
        return code, Force(force) if force else None
    except ValueError:
        return None


def _form(subscription: WebhookSubscription | None = None) -> SubscriptionForm:
    form = SubscriptionForm(obj=None)
    form.events.choices = [(name, str(label)) for name, label in webhooks.EVENTS.items()]
    if subscription is None and current_user.role in (Role.COORDINATOR, Role.ADMIN):
        form.territory.choices = _territory_choices()
    else:
        del form.territory
    if subscription is not None and not form.is_submitted():
        form.url.data = subscription.url
        form.events.data = subscription.event_names
        form.description.data = subscription.description
    return form


def _refused_next_to_field(form: SubscriptionForm, outcome) -> None:
    name = FIELD_OF.get(outcome.refusal.code, "url")
    field = getattr(form, name, None) or form.url
    field.errors = [*field.errors, outcome.message()]


def _owner_text(subscription: WebhookSubscription) -> str:
    if subscription.establishment_id is not None:
        return subscription.establishment.name
    force = force_label(subscription.force) if subscription.force else _("les deux forces")
    return _("Département %(code)s, %(force)s", code=subscription.departement_code, force=force)


@bp.app_context_processor
def _webhook_context() -> dict:
    return {"webhook_owner": _owner_text, "webhook_event_label": lambda name: webhooks.EVENTS.get(name, name),
            "webhook_error": webhooks.error_text}


@bp.route("/")
@permission("webhook", "list")
def index():
    subscriptions = db.session.scalars(select(WebhookSubscription).where(WEBHOOKS.rows(current_user))
                                       .order_by(WebhookSubscription.id).limit(200)).all()
    may_create = current_user.role is not Role.REQUESTER or current_user.establishment_id is not None
    return render_template("webhooks/index.html", subscriptions=subscriptions, may_create=may_create)


@bp.route("/nouveau", methods=["GET", "POST"])
@permission("webhook", "create")
def new():
    form = _form()
    if form.validate_on_submit():
        territory = _territory(form.territory.data) if form.territory is not None else None
        outcome = run(lambda: webhooks.subscribe(
            db.session, current_user, form.url.data, form.events.data, form.description.data, _keys(), _settings(),
            utcnow(), territory=territory))
        if outcome.ok:
            flash(_("Abonnement enregistré. Copiez son secret ci-dessous : il sert à vérifier chaque envoi."),
                  "success")
            return redirect(url_for("webhooks.show", subscription_id=outcome.value.id, _anchor="secret"))
        _refused_next_to_field(form, outcome)
    status = 400 if form.is_submitted() else 200
    return render_template("webhooks/form.html", form=form, subscription=None), status


@bp.route("/<int:subscription_id>", methods=["GET", "POST"])
@permission("webhook", "edit")
def show(subscription_id: int):
    subscription = load("webhook", subscription_id, "edit")
    form = _form(subscription)
    if form.validate_on_submit():
        outcome = run(lambda: webhooks.edit(db.session, subscription, form.url.data, form.events.data,
                                            form.description.data, _settings(), utcnow()))
        if outcome.ok:
            flash(_("Abonnement modifié."), "success")
            return redirect(url_for("webhooks.show", subscription_id=subscription.id))
        _refused_next_to_field(form, outcome)
        db.session.refresh(subscription)
    status = 400 if form.is_submitted() else 200
    try:
        secret = webhooks.secret_of(subscription, _keys())
    except Exception:  # a key changed since: the page offers a new secret
        secret = None
    recent = webhooks.deliveries(db.session, subscription, limit=5)[:5]
    return render_template("webhooks/form.html", form=form, subscription=subscription, secret=secret,
                           recent=recent, action_form=ActionForm()), status


def _action(subscription_id: int, operation, done: str):
    subscription = load("webhook", subscription_id, "edit")
    if ActionForm().validate_on_submit():
        perform(lambda: operation(subscription), done)
    return redirect(url_for("webhooks.show", subscription_id=subscription_id))


@bp.route("/<int:subscription_id>/pause", methods=["POST"])
@permission("webhook", "edit")
def pause(subscription_id: int):
    return _action(subscription_id, lambda s: webhooks.pause(db.session, s, utcnow()),
                   _("Envois en pause : les événements sont gardés et partiront à la reprise."))


@bp.route("/<int:subscription_id>/reprise", methods=["POST"])
@permission("webhook", "edit")
def resume(subscription_id: int):
    return _action(subscription_id, lambda s: webhooks.resume(db.session, s, utcnow()),
                   _("Envois repris : les événements en attente partent dans quelques minutes."))


@bp.route("/<int:subscription_id>/secret", methods=["POST"])
@permission("webhook", "edit")
def rotate(subscription_id: int):
    return _action(subscription_id, lambda s: webhooks.rotate_secret(s, _keys(), utcnow()),
                   _("Nouveau secret créé : les prochains envois sont signés avec lui. Mettez à jour le récepteur."))


@bp.route("/<int:subscription_id>/suppression", methods=["POST"])
@permission("webhook", "edit")
def delete(subscription_id: int):
    subscription = load("webhook", subscription_id, "edit")
    if not ActionForm().validate_on_submit():
        return redirect(url_for("webhooks.show", subscription_id=subscription_id))
    perform(lambda: webhooks.unsubscribe(db.session, subscription), _("Abonnement supprimé."))
    return redirect(url_for("webhooks.index"))


@bp.route("/<int:subscription_id>/envois")
@permission("webhook", "view")
def log(subscription_id: int):
    """The deliveries, latest first, a page at a time (keyset on the id: `avant`)."""
    subscription = load("webhook", subscription_id, "view")
    before = request.args.get("avant", type=int)
    found = webhooks.deliveries(db.session, subscription, before=before, limit=PAGE_SIZE)
    shown, next_before = cut(found, PAGE_SIZE, key=lambda row: row.id)
    return render_template("webhooks/log.html", subscription=subscription, deliveries=shown,
                           next_before=next_before, first_page=not before, action_form=ActionForm())


@bp.route("/<int:subscription_id>/envois/<int:delivery_id>/rejouer", methods=["POST"])
@permission("webhook", "replay")
def replay(subscription_id: int, delivery_id: int):
    subscription = load("webhook", subscription_id, "replay")
    if ActionForm().validate_on_submit():
        perform(lambda: webhooks.replay(db.session, subscription, delivery_id, utcnow()),
                _("Envoi remis en file : il repartira, avec le même identifiant, au prochain passage."))
    return redirect(url_for("webhooks.log", subscription_id=subscription_id))
