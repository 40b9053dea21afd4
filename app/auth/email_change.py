"""The link that confirms a new login address (app.domain.email_change): public, since the token is the key; the
account's password is asked too when it has one, so that the owner agrees and not only whoever reads the new
address."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired

from app.access import public
from app.auth import bp
from app.domain import tokens
from app.domain.clock import utcnow
from app.domain.email_change import Confirmation, account_asked, confirm_email_change
from app.emails import queue_activation
from app.extensions import db, limiter
from app.forms import RelaisForm
from app.unit_of_work import run


class EmailChangeForm(RelaisForm):
    submit = SubmitField(_l("Confirmer la nouvelle adresse"))


class EmailChangeWithPasswordForm(EmailChangeForm):
    password = PasswordField(_l("Mot de passe actuel de votre compte"),
                             validators=[DataRequired(_l("Saisissez votre mot de passe."))],
                             render_kw={"autocomplete": "current-password"})


def _attempts_key() -> str:
    """Wrong passwords count against the account the link is about, as on the log-in page."""
    claim = tokens.read_email_change_token(current_app.config["SECRET_KEY"], request.view_args.get("token", ""),
                                           utcnow())
    return f"email-change:{claim.user_id}" if claim else get_remote_address()


def _refused(response) -> bool:
    return response.status_code != 302  # a confirmation, or a dead link, redirects


@bp.route("/nouvelle-adresse/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RELAIS_LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_attempts_key, deduct_when=_refused)
@public
def confirm_email_change_link(token: str):
    secret = current_app.config["SECRET_KEY"]
    asked = account_asked(db.session, secret, token, utcnow())
    if asked is None:
        return _dead_link()
    user, claim = asked
    needs_password = user.password_hash is not None
    form = EmailChangeWithPasswordForm() if needs_password else EmailChangeForm()
    if form.validate_on_submit():
        password = form.password.data if needs_password else None

        def confirm() -> Confirmation:
            result = confirm_email_change(db.session, secret, token, password, utcnow())
            if result is Confirmation.CHANGED and not user.is_activated:
                queue_activation(user)  # the invitation or confirmation, to the new address
            return result

        result = run(confirm).value
        if result is Confirmation.CHANGED:
            return _changed(user)
        if result is Confirmation.INVALID_LINK:
            return _dead_link()
        if result is Confirmation.WRONG_PASSWORD:
            form.password.errors.append(_("Mot de passe incorrect."))
        else:
            form.form_errors.append(_("L'adresse %(email)s est déjà celle d'un autre compte : votre adresse n'a pas "
                                      "changé. Prévenez la personne qui a demandé le changement.",
                                      email=claim.new_email))
    return render_template("auth/email_change.html", form=form, user=user, new_email=claim.new_email,
                           needs_password=needs_password)


def _dead_link():
    flash(_("Ce lien de changement d'adresse n'est plus valable : il a expiré, a déjà servi, ou le compte a changé "
            "depuis. Rien n'a été modifié."), "warning")
    return redirect(url_for("auth.login"))


def _changed(user):
    if not user.is_activated:
        flash(_("Adresse confirmée : %(email)s. Un lien d'activation vient d'y être envoyé.", email=user.email),
              "success")
        return redirect(url_for("auth.login"))
    flash(_("Votre adresse de connexion est désormais %(email)s.", email=user.email), "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))
