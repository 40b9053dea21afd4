"""Log-in, log-out, registration, activation and password reset."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from app.access import public
from app.auth import bp
from app.auth.forms import LoginForm, PasswordRequestForm, RegistrationForm, SetPasswordForm
from app.domain import tokens
from app.domain.clock import utcnow
from app.domain.passwords import hash_password, verify_password
from app.emails import queue_activation, queue_password_reset
from app.extensions import db, limiter
from app.models import Role, User
from app.models.accounts import normalize_email
from app.unit_of_work import run


def _account_key() -> str:
    return "account:" + normalize_email(request.form.get("email", "")) or get_remote_address()


def _failed_attempt(response) -> bool:
    # A successful log-in redirects; only refused attempts count against the limits.
    return response.status_code != 302


def _hash(password: str) -> str:
    return hash_password(password, current_app.config.get("PASSWORD_HASH_METHOD"))


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.home")


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RELAIS_LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
               deduct_when=_failed_attempt)
@limiter.limit(lambda: current_app.config["RELAIS_LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_account_key, deduct_when=_failed_attempt)
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        if user is not None and user.is_active and verify_password(user.password_hash, form.password.data):
            login_user(user, remember=form.remember.data)
            run(lambda: setattr(user, "last_login_at", utcnow()))
            flash(_("Bienvenue, %(name)s.", name=user.full_name), "success")
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Adresse e-mail ou mot de passe incorrect."))
    return render_template("auth/login.html", form=form)


@bp.route("/deconnexion", methods=["POST"])
@public
def logout():
    logout_user()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/inscription", methods=["GET", "POST"])
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegistrationForm()
    if form.validate_on_submit():
        run(lambda: _register(form))
        return render_template("auth/check_email.html", email=form.email.data)
    return render_template("auth/register.html", form=form)


def _register(form: RegistrationForm) -> None:
    existing = User.by_email(form.email.data)
    if existing is not None:
        # Do not reveal that the address has an account: tell its owner by e-mail instead.
        if not existing.is_activated:
            queue_activation(existing)
        else:
            queue_password_reset(existing)
        return
    user = User(email=normalize_email(form.email.data), full_name=form.full_name.data.strip(),
                phone=form.phone.data or None, role=Role.REQUESTER, password_hash=_hash(form.password.data),
                language=str(request.accept_languages.best_match(["fr", "en"]) or "fr"))
    db.session.add(user)
    db.session.flush()
    queue_activation(user)


@bp.route("/activer/<token>", methods=["GET", "POST"])
@public
def activate(token: str):
    max_age = current_app.config["RELAIS_ACTIVATION_TOKEN_DAYS"] * 86400
    user = _user_from_token(tokens.ACTIVATION, token, max_age)
    if user is None or user.is_activated:
        flash(_("Ce lien d'activation n'est plus valable. Connectez-vous ou demandez un nouveau lien."), "warning")
        return redirect(url_for("auth.login"))
    if user.password_hash is not None:  # self-registered: the link confirms the address
        run(lambda: setattr(user, "activated_at", utcnow()))
        login_user(user)
        flash(_("Votre adresse est confirmée. Bienvenue sur Relais."), "success")
        return redirect(url_for("main.home"))
    form = SetPasswordForm()
    form.personal_words = (*user.full_name.split(), user.email.split("@")[0])
    if form.validate_on_submit():
        password_hash = _hash(form.password.data)

        def activate_account():
            user.password_hash = password_hash
            user.activated_at = utcnow()

        run(activate_account)
        login_user(user)
        flash(_("Votre compte est activé. Bienvenue sur Relais."), "success")
        return redirect(url_for("main.home"))
    return render_template("auth/set_password.html", form=form, user=user, activation=True)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
@public
def forgot_password():
    form = PasswordRequestForm()
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        if user is not None and user.active:
            run(lambda: queue_password_reset(user) if user.is_activated else queue_activation(user))
        # Same answer whether or not the address is known.
        return render_template("auth/check_email.html", email=form.email.data)
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/nouveau-mot-de-passe/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    max_age = current_app.config["RELAIS_RESET_TOKEN_HOURS"] * 3600
    user = _user_from_token(tokens.PASSWORD_RESET, token, max_age)
    if user is None or not user.active:
        flash(_("Ce lien de réinitialisation n'est plus valable : demandez-en un nouveau."), "warning")
        return redirect(url_for("auth.forgot_password"))
    form = SetPasswordForm()
    form.personal_words = (*user.full_name.split(), user.email.split("@")[0])
    if form.validate_on_submit():
        password_hash = _hash(form.password.data)
        run(lambda: setattr(user, "password_hash", password_hash))
        logout_user()
        flash(_("Votre mot de passe a été changé. Connectez-vous avec le nouveau."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, user=user, activation=False)


def _user_from_token(purpose: str, token: str, max_age: int) -> User | None:
    content = tokens.read_token(current_app.config["SECRET_KEY"], purpose, token, max_age)
    if content is None:
        return None
    user_id, fingerprint = content
    user = db.session.get(User, user_id)
    if user is None or not tokens.token_matches(fingerprint, user.password_hash):
        return None
    return user


@bp.route("/langue/<code>", methods=["POST"])
@public
def set_language(code: str):
    from flask import session

    if code not in current_app.config["RELAIS_LANGUAGES"]:
        abort(404)
    session["language"] = code
    if current_user.is_authenticated:
        run(lambda: setattr(current_user, "language", code))
    return redirect(_safe_next(request.form.get("next")))
