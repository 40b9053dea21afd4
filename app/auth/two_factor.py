"""The second step of a coordinator's or admin's password sign-in (issue #21; the rules: app.domain.two_factor).

After the right password, no log-in session yet: the cookie session remembers, for RELAIS_TOTP_PENDING_MINUTES,
who passed the first step (and the fingerprint of their password: a reset meanwhile voids it). Enrolled, they give
a code (or a recovery code); not yet, they enrol first, before any page. Only then is the log-in session opened
(app.auth.logins.log_in), the same as any other. Wrong codes are limited per account (Flask-Limiter).

The admins' page « Sécurité de la connexion »: single sign-on required for coordinators and admins, and the reset
of someone's second factor.
"""

from __future__ import annotations

import segno
from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.access import permission, public
from app.auth import bp
from app.auth.forms import EnrolSecondFactorForm, ResetSecondFactorForm, SecondFactorForm, SignInSettingsForm
from app.auth.logins import log_in
from app.auth.redirects import safe_next
from app.domain import audit, caldav_push, sso, two_factor
from app.domain.clock import utcnow
from app.domain.login_sessions import credential_of
from app.extensions import db, limiter
from app.models import User
from app.unit_of_work import perform, run

PENDING_KEY = "pending_login"


def keys():
    """The cipher of the secrets: the one of the stored CalDAV passwords (RELAIS_CALDAV_KEY, or from SECRET_KEY)."""
    return caldav_push.keys_from(current_app.config)


def begin(user: User, *, remember: bool, next_url: str | None):
    """The password was right: on to the second step (enrolment first, if need be)."""
    session[PENDING_KEY] = {"user": user.id, "remember": bool(remember), "at": utcnow().timestamp(),
                            "credential": credential_of(user.password_hash),
                            "next": safe_next(next_url, "")}
    if two_factor.is_enrolled(user):
        return redirect(url_for("auth.second_factor"))
    return redirect(url_for("auth.enrol_second_factor"))


def pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    minutes = current_app.config["RELAIS_TOTP_PENDING_MINUTES"]
    if utcnow().timestamp() - float(pending.get("at", 0)) > minutes * 60:
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.is_active or credential_of(user.password_hash) != pending.get("credential"):
        session.pop(PENDING_KEY, None)
        return None
    audit.acts_as(user)  # the password is proven: what this step writes is the person's own doing
    return user


def _finish(user: User):
    """Opens the log-in session; where to go next."""
    pending = session.get(PENDING_KEY) or {}
    log_in(user, remember=bool(pending.get("remember")))  # the cookie session starts afresh: the pending step is gone
    return safe_next(pending.get("next"), url_for("main.home"))


def _start_again():
    flash(_("Votre connexion a expiré : saisissez de nouveau votre mot de passe."), "warning")
    return redirect(url_for("auth.login"))


def _pending_key() -> str:
    pending = session.get(PENDING_KEY)
    return f"second-factor:{pending.get('user') if isinstance(pending, dict) else 'none'}"


def _failed_attempt(response) -> bool:
    return response.status_code != 302 and request.method == "POST"


def _limit():
    return current_app.config["RELAIS_TOTP_LIMIT_PER_ACCOUNT"]


@bp.route("/double-authentification", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"], key_func=_pending_key, deduct_when=_failed_attempt)
@public
def second_factor():
    user = pending_user()
    if user is None:
        return _start_again()
    if not two_factor.is_enrolled(user):
        return redirect(url_for("auth.enrol_second_factor"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        code = form.code.data
        if run(lambda: two_factor.verify(db.session, user, code, utcnow(), keys())).value:
            target = _finish(user)
            flash(_("Bienvenue, %(name)s.", name=user.full_name), "success")
            return redirect(target)
        form.code.errors.append(_("Code incorrect ou déjà utilisé : attendez le code suivant, ou utilisez un "
                                  "code de secours."))
    return render_template("auth/second_factor.html", form=form, user=user), 200 if not form.errors else 422


@bp.route("/double-authentification/activer", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"], key_func=_pending_key, deduct_when=_failed_attempt)
@public
def enrol_second_factor():
    user = pending_user()
    if user is None:
        return _start_again()
    if two_factor.is_enrolled(user):
        return redirect(url_for("auth.second_factor"))
    secret = run(lambda: two_factor.start_enrolment(db.session, user, keys())).value
    form = EnrolSecondFactorForm()
    if form.validate_on_submit():
        code = form.code.data
        codes = run(lambda: two_factor.confirm_enrolment(db.session, user, code, utcnow(), keys())).value
        if codes:
            target = _finish(user)
            flash(_("La double authentification est activée."), "success")
            return _not_kept(render_template("auth/recovery_codes.html", codes=codes, target=target), 200)
        form.code.errors.append(_("Ce code ne correspond pas : vérifiez l'heure de votre téléphone et saisissez le "
                                  "code affiché maintenant."))
    uri = two_factor.provisioning_uri(secret, user.email)
    # segno writes the SVG from the address alone (its title escaped): markup of our own, not the person's text.
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=4, title=_("Code QR à scanner"),  # noqa: S704
                                                       svgclass="totp-qr"))
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return _not_kept(render_template("auth/enrol_second_factor.html", form=form, user=user, secret=grouped, uri=uri,
                                     qr=qr), 200 if not form.errors else 422)


def _not_kept(page: str, status: int):
    """A page that shows a secret: no cache keeps it."""
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the admins' page -----------------------------------------------------------------------------------------------


@bp.route("/securite", methods=["GET", "POST"])
@permission("account", "security")
def security_settings():
    current = sso.settings(db.session)
    form = SignInSettingsForm(prefix="reglage")
    reset_form = ResetSecondFactorForm(prefix="reinit")
    if request.method == "GET":
        form.sso_required.data = current.sso_required_for_staff
    elif form.submit.data and form.validate_on_submit():
        actor, required = current_user._get_current_object(), form.sso_required.data
        perform(lambda: sso.set_sso_required(db.session, actor, required, utcnow()),
                _("La connexion unique est exigée des coordinations et des administrateurs.") if required
                else _("Les coordinations et les administrateurs peuvent de nouveau se connecter par mot de passe."))
        return redirect(url_for("auth.security_settings"))
    return render_template("auth/security_settings.html", form=form, reset_form=reset_form,
                           sso_available=bool(current_app.config.get("RELAIS_OIDC_ISSUER")))


@bp.route("/securite/double-authentification", methods=["POST"])
@permission("account", "reset_second_factor")
def reset_second_factor():
    form = ResetSecondFactorForm(prefix="reinit")
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        if user is None:
            flash(_("Aucun compte à cette adresse."), "warning")
        else:
            done = run(lambda: two_factor.reset(db.session, user)).value
            if done.was_enrolled:
                flash(_("La double authentification de %(name)s est réinitialisée : elle la configurera à sa "
                        "prochaine connexion par mot de passe.", name=user.full_name), "success")
            else:
                flash(_("%(name)s n'avait pas de double authentification configurée.", name=user.full_name), "info")
    else:
        flash(_("Saisissez une adresse e-mail valide."), "warning")
    return redirect(url_for("auth.security_settings"))
