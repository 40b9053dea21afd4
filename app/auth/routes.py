"""Log-in, log-out, registration, activation, password reset, the language, and the person's own sessions.

Log-in, registration and reset requests take the same time whether or not the address has an account (a
stranger must not learn who has one): the same password work and the same e-mail work either way.
"""

from __future__ import annotations

from functools import cache

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

from app.access import permission, public
from app.auth import bp
from app.auth import sso as sso_views
from app.auth import two_factor as two_factor_views
from app.auth.forms import EndSessionForm, LoginForm, PasswordRequestForm, RegistrationForm, SetPasswordForm
from app.auth.logins import lifetimes, log_in, log_out
from app.auth.redirects import safe_next
from app.domain import login_sessions, sso, tokens, two_factor
from app.domain.clock import utcnow
from app.domain.passwords import hash_password, verify_password
from app.emails import absolute_url, queue_activation, queue_password_reset, queue_templated_email
from app.extensions import db, limiter
from app.formatting import plural_choice
from app.models import Role, User
from app.models.accounts import normalize_email
from app.unit_of_work import run

# -- rate limits (Flask-Limiter; shared by every process through RATELIMIT_STORAGE_URI) -------------------------


def _typed_email() -> str:
    return normalize_email(request.form.get("email", ""))[:254]


def _account_and_address_key() -> str:
    return f"account-address:{_typed_email()}|{get_remote_address()}"


def _account_key() -> str:
    return f"account:{_typed_email()}"


def _recipient_key() -> str:
    return f"recipient:{_typed_email()}"


def _owner_address() -> bool:
    """The account has logged in from this address before: the slower limit of the account does not apply (its
    owner is not locked out by a stranger's attempts; the limit of the account and this address still does)."""
    return login_sessions.known_address(db.session, _typed_email(), get_remote_address())


def _failed_attempt(response) -> bool:
    # A successful log-in redirects; only refused attempts count against the limits.
    return response.status_code != 302


def _mail_asked(_response) -> bool:
    return bool(g.get("mail_asked"))


def _limit(name: str):
    return lambda: current_app.config[name]


# -- passwords: the same work for an unknown address ----------------------------------------------------------


def _hash_method() -> str | None:
    return current_app.config.get("PASSWORD_HASH_METHOD")


def _hash(password: str) -> str:
    return hash_password(password, _hash_method())


@cache
def _stand_in_hash(method: str | None) -> str:
    """A hash of the configured method that no password is checked against for real: an unknown address costs
    a log-in what a known one does."""
    return hash_password("relais: no account has this password", method)


def _credentials_match(user: User | None, password: str) -> bool:
    """Whether the person may log in with this password; one password check whatever the account's state."""
    stored = user.password_hash if user is not None and user.password_hash else _stand_in_hash(_hash_method())
    matches = verify_password(stored, password)
    return matches and user is not None and user.is_active


# -- log-in and log-out ------------------------------------------------------------------------------------------


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(_limit("RELAIS_LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"], deduct_when=_failed_attempt)
@limiter.limit(_limit("RELAIS_LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"), methods=["POST"],
               key_func=_account_and_address_key, deduct_when=_failed_attempt)
@limiter.limit(_limit("RELAIS_LOGIN_LIMIT_PER_ACCOUNT"), methods=["POST"], key_func=_account_key,
               deduct_when=_failed_attempt, exempt_when=_owner_address)
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        if _credentials_match(user, form.password.data):
            if sso.sso_required_for(db.session, user):
                form.password.errors.append(_("Les coordinations et les administrateurs se connectent avec "
                                              "%(provider)s : le mot de passe ne suffit plus.",
                                              provider=sso_views.provider_name()))
                return render_template("auth/login.html", form=form, sso_enabled=sso_views.configured(),
                                       provider=sso_views.provider_name())
            if two_factor.applies_to(user):  # the log-in session opens after the code (app.auth.two_factor)
                return two_factor_views.begin(user, remember=form.remember.data, next_url=request.args.get("next"))
            log_in(user, remember=form.remember.data)
            flash(_("Bienvenue, %(name)s.", name=user.full_name), "success")
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
        form.password.errors.append(_("Adresse e-mail ou mot de passe incorrect."))
    return render_template("auth/login.html", form=form, sso_enabled=sso_views.configured(),
                           provider=sso_views.provider_name())


@bp.route("/deconnexion", methods=["POST"])
@public
def logout():
    at_provider = sso_views.logout_redirect()  # signed in through the provider: its session ends too
    log_out()
    flash(_("Vous êtes déconnecté."), "info")
    return at_provider or redirect(url_for("auth.login"))


# -- registration, activation, password reset ----------------------------------------------------------------


@bp.route("/inscription", methods=["GET", "POST"])
@limiter.limit(_limit("RELAIS_REGISTRATION_LIMIT_PER_ADDRESS"), methods=["POST"])
@limiter.shared_limit(_limit("RELAIS_MAIL_LIMIT_PER_RECIPIENT"), "mail-recipient", methods=["POST"],
                      key_func=_recipient_key, deduct_when=_mail_asked)
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegistrationForm()
    if form.validate_on_submit():
        g.mail_asked = True
        password_hash = _hash(form.password.data)  # whether or not the address has an account: the same time
        run(lambda: _register(form, password_hash))
        return render_template("auth/check_email.html", email=form.email.data)
    return render_template("auth/register.html", form=form)


def _register(form: RegistrationForm, password_hash: str) -> None:
    existing = User.by_email(form.email.data)
    if existing is not None:
        # Do not reveal that the address has an account: tell its owner by e-mail instead.
        if not existing.is_activated:
            queue_activation(existing)
        else:
            queue_password_reset(existing)
        return
    user = User(email=normalize_email(form.email.data), full_name=form.full_name.data.strip(),
                phone=form.phone.data or None, role=Role.REQUESTER, password_hash=password_hash,
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
        flash(_("Votre adresse est confirmée. Bienvenue sur Relais."), "success")
        if two_factor.applies_to(user):
            return two_factor_views.begin(user, remember=False, next_url=None)
        log_in(user)
        return redirect(url_for("main.home"))
    form = SetPasswordForm()
    form.personal_words = (*user.full_name.split(), user.email.split("@")[0])
    if form.validate_on_submit():
        password_hash = _hash(form.password.data)

        def activate_account():
            user.password_hash = password_hash
            user.activated_at = utcnow()

        run(activate_account)
        flash(_("Votre compte est activé. Bienvenue sur Relais."), "success")
        if two_factor.applies_to(user):  # a coordinator or admin enrols their second factor before any page
            return two_factor_views.begin(user, remember=False, next_url=None)
        log_in(user)
        return redirect(url_for("main.home"))
    return render_template("auth/set_password.html", form=form, user=user, activation=True)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(_limit("RELAIS_RESET_LIMIT_PER_ADDRESS"), methods=["POST"])
@limiter.shared_limit(_limit("RELAIS_MAIL_LIMIT_PER_RECIPIENT"), "mail-recipient", methods=["POST"],
                      key_func=_recipient_key, deduct_when=_mail_asked)
@public
def forgot_password():
    form = PasswordRequestForm()
    if form.validate_on_submit():
        g.mail_asked = True
        user = User.by_email(form.email.data)
        run(lambda: _send_reset_link(user, form.email.data))
        # Same answer, and the same work (one e-mail written), whether or not the address is known.
        return render_template("auth/check_email.html", email=form.email.data)
    return render_template("auth/forgot_password.html", form=form)


def _send_reset_link(user: User | None, typed_email: str) -> None:
    if user is None or not user.active:
        queue_templated_email(normalize_email(typed_email), "no_account", _l("Aucun compte Relais à cette adresse"),
                              language=str(get_locale() or "fr"), link=absolute_url("auth.register"))
    elif user.is_activated:
        queue_password_reset(user)
    else:
        queue_activation(user)


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

        def change_password():
            user.password_hash = password_hash
            login_sessions.end_all_sessions(db.session, user, utcnow())  # wherever it was logged in: logged out

        run(change_password)
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
    if user is None or not tokens.token_matches(fingerprint, user.password_hash, user.email):
        return None
    return user


# -- the language ----------------------------------------------------------------------------------------------


@bp.route("/langue/<code>", methods=["POST"])
@public
def set_language(code: str):
    if code not in current_app.config["RELAIS_LANGUAGES"]:
        abort(404)
    session["language"] = code
    if current_user.is_authenticated:
        run(lambda: setattr(current_user, "language", code))
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))


# -- "Mes sessions": the person's own log-ins, ended from here ------------------------------------------------------


@bp.route("/sessions")
@permission("account", "sessions")
def sessions():
    limits = lifetimes()
    live = login_sessions.live_sessions(db.session, current_user, utcnow(), limits)
    live.sort(key=lambda login: login.id != current_user.login_session_id)  # this device first, then by activity
    forms = {login.id: EndSessionForm(prefix=f"s{login.id}") for login in live}
    return render_template("auth/sessions.html", sessions=live, forms=forms, current_id=current_user.login_session_id,
                           end_others_form=EndSessionForm(prefix="autres"), describe=login_sessions.describe_device,
                           idle_text=format_timedelta(limits.idle_for(current_user.role)))


@bp.route("/sessions/<int:session_id>/terminer", methods=["POST"])
@permission("account", "sessions")
def end_session(session_id: int):
    if not EndSessionForm(prefix=f"s{session_id}").validate_on_submit():
        abort(400)
    if session_id == current_user.login_session_id:
        log_out()
        flash(_("Vous êtes déconnecté."), "info")
        return redirect(url_for("auth.login"))
    user = current_user._get_current_object()
    if run(lambda: login_sessions.end_session(db.session, user, session_id, utcnow())).value:
        flash(_("La session est terminée : cet appareil devra se reconnecter."), "success")
    else:
        flash(_("Cette session était déjà terminée."), "info")
    return redirect(url_for("auth.sessions"))


@bp.route("/sessions/terminer-les-autres", methods=["POST"])
@permission("account", "sessions")
def end_other_sessions():
    if not EndSessionForm(prefix="autres").validate_on_submit():
        abort(400)
    user, kept = current_user._get_current_object(), current_user.login_session_id
    count = run(lambda: login_sessions.end_other_sessions(db.session, user, kept, utcnow())).value
    flash(ngettext("%(count)s autre session terminée : cet appareil devra se reconnecter.",
                   "%(count)s autres sessions terminées : ces appareils devront se reconnecter.",
                   plural_choice(count), count=count), "success")
    return redirect(url_for("auth.sessions"))
