"""« Jetons d'accès à l'API » (issue #22): the person's own personal access tokens, made, listed and revoked here.

A new token is shown once, on the answer to the form that made it (never put in the session or a flash), then
only its prefix; the rules are in app.domain.access_tokens.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.access import permission
from app.auth import bp
from app.domain import access_tokens
from app.domain.clock import utcnow
from app.extensions import db
from app.forms import RelaisForm
from app.models import TokenScope
from app.unit_of_work import run

SCOPE_CHOICES = [(TokenScope.READ.value, _l("Lecture seule")),
                 (TokenScope.READ_WRITE.value, _l("Lecture et écriture"))]


def max_days() -> int:
    return int(current_app.config.get("RELAIS_API_TOKEN_MAX_DAYS", access_tokens.DEFAULT_DAYS))


class TokenForm(RelaisForm):
    name = StringField(_l("Nom du jeton"), validators=[
        DataRequired(_l("Donnez un nom au jeton (à quoi il sert).")),
        Length(max=access_tokens.NAME_MAX, message=_l("%(max)d caractères au plus."))],
        description=_l("Par exemple : « Tableur de suivi du collège »."))
    scope = RadioField(_l("Droits"), choices=SCOPE_CHOICES, default=TokenScope.READ.value,
                       validators=[InputRequired(_l("Choisissez les droits du jeton."))])
    days = IntegerField(_l("Validité (en jours)"), default=access_tokens.DEFAULT_DAYS,
                        validators=[InputRequired(_l("Donnez une durée de validité en jours."))])
    submit = SubmitField(_l("Créer le jeton"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = max_days()
        self.days.validators = [*self.days.validators, NumberRange(
            min=1, max=limit, message=_l("Entre 1 et %(max)s jours.", max=limit))]


class RevokeForm(RelaisForm):
    submit = SubmitField(_l("Révoquer"))


def _page(form: TokenForm, new_secret: str | None = None):
    tokens = access_tokens.tokens_of(db.session, current_user)
    response = current_app.make_response(render_template(
        "auth/tokens.html", form=form, tokens=tokens, new_secret=new_secret, now=utcnow(),
        revoke_forms={token.id: RevokeForm(prefix=f"t{token.id}") for token in tokens},
        is_live=access_tokens.is_live, max_days=max_days()))
    response.headers["Cache-Control"] = "no-store"  # a new token is on it
    return response


@bp.route("/jetons")
@permission("access_token", "list")
def tokens():
    return _page(TokenForm())


@bp.route("/jetons", methods=["POST"])
@permission("access_token", "create")
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form)
    user = current_user._get_current_object()
    outcome = run(lambda: access_tokens.create_token(db.session, user, form.name.data, TokenScope(form.scope.data),
                                                     utcnow(), days=form.days.data, max_days=max_days()))
    if not outcome.ok:
        flash(outcome.message(), "warning")
        return _page(form)
    flash(_("Jeton créé. Copiez-le maintenant : il ne sera plus jamais affiché."), "success")
    return _page(TokenForm(formdata=None), new_secret=outcome.value.secret)


@bp.route("/jetons/<int:token_id>/revoquer", methods=["POST"])
@permission("access_token", "revoke")
def revoke_token(token_id: int):
    if not RevokeForm(prefix=f"t{token_id}").validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    outcome = run(lambda: access_tokens.revoke(db.session, user, token_id, utcnow()))
    if outcome.ok:
        flash(_("Jeton révoqué : il ne donne plus accès à l'API."), "success")
    else:
        flash(outcome.message(), "info")
    return redirect(url_for("auth.tokens"))
