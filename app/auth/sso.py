"""Sign-in through the OpenID Connect provider (issue #21; the rules: app.domain.sso).

Authlib's Flask client runs the authorization code flow: PKCE (S256), `state` and `nonce` kept in the signed
session cookie, the ID token's signature checked against the provider's published keys (its issuer, audience,
expiry and nonce too), then userinfo. The provider's discovery document is read at the first sign-in, never at
start: the app starts with the provider down or unconfigured, and a provider that does not answer gives a French
page that points to the password, never an error 500. No issuer configured: no button at all.
"""

from __future__ import annotations

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.access import public
from app.auth import bp
from app.auth.logins import log_in
from app.auth.redirects import safe_next
from app.domain import sso
from app.domain.clock import utcnow
from app.extensions import db
from app.unit_of_work import run

log = logging.getLogger(__name__)

NEXT_KEY = "sso_next"
ID_TOKEN_KEY = "sso_id_token"  # noqa: S105 (the name of a session key)
_REGISTRY = "relais.oidc"


def configured() -> bool:
    config = current_app.config
    return bool(config.get("RELAIS_OIDC_ISSUER") and config.get("RELAIS_OIDC_CLIENT_ID"))


def provider_name() -> str:
    return current_app.config.get("RELAIS_OIDC_PROVIDER_NAME") or "ProConnect"


def claim_settings() -> sso.ClaimSettings:
    config = current_app.config
    return sso.ClaimSettings(email=config["RELAIS_OIDC_EMAIL_CLAIM"],
                             email_verified=config["RELAIS_OIDC_EMAIL_VERIFIED_CLAIM"],
                             given_name=config["RELAIS_OIDC_GIVEN_NAME_CLAIM"],
                             family_name=config["RELAIS_OIDC_FAMILY_NAME_CLAIM"],
                             trust_email=config["RELAIS_OIDC_TRUST_EMAIL"])


def client():
    """This application's Authlib client of the provider, made at its first use (no network access here)."""
    app = current_app._get_current_object()
    registry = app.extensions.get(_REGISTRY)
    if registry is None:
        config = app.config
        registry = OAuth()
        registry.init_app(app)
        registry.register(
            "provider", client_id=config["RELAIS_OIDC_CLIENT_ID"], client_secret=config["RELAIS_OIDC_CLIENT_SECRET"],
            server_metadata_url=f"{config['RELAIS_OIDC_ISSUER']}/.well-known/openid-configuration",
            client_kwargs={"scope": config["RELAIS_OIDC_SCOPES"], "code_challenge_method": "S256",
                           "default_timeout": config["RELAIS_OIDC_TIMEOUT"]})
        app.extensions[_REGISTRY] = registry
    return registry.provider


def _unavailable():
    return render_template("auth/sso_problem.html", provider=provider_name(), problem="down"), 503


def _not_configured():
    flash(_("La connexion unique n'est pas disponible sur ce serveur : connectez-vous avec votre mot de passe."),
          "info")
    return redirect(url_for("auth.login"))


@bp.route("/proconnect")
@public
def sso_start():
    if not configured():
        return _not_configured()
    session[NEXT_KEY] = safe_next(request.args.get("next"), "")
    extra = {}
    if current_app.config["RELAIS_OIDC_ACR_VALUES"]:
        extra["acr_values"] = current_app.config["RELAIS_OIDC_ACR_VALUES"]
    try:
        return client().authorize_redirect(url_for("auth.sso_callback", _external=True), **extra)
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as error:
        log.warning("single sign-on: the provider's discovery did not answer (%s)", error)
        return _unavailable()


@bp.route("/proconnect/retour")
@public
def sso_callback():
    if not configured():
        return _not_configured()
    provider = client()
    try:
        token = provider.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        if not claims.get("sub"):
            raise OAuthError(description="no ID token")
        claims.update(_userinfo(provider, token, claims["sub"]))
    except MismatchingStateError:
        return _problem("state")
    except OAuthError as error:
        log.info("single sign-on refused: %s %s", error.error, error.description)
        return _problem("cancelled" if error.error == "access_denied" else "invalid")
    except (JoseError, AuthlibBaseError, ValueError, KeyError) as error:
        log.warning("single sign-on: the ID token or userinfo could not be verified (%s: %s)",
                    type(error).__name__, error)
        return _problem("invalid")
    except requests.RequestException as error:
        log.warning("single sign-on: the provider did not answer (%s)", error)
        return _unavailable()
    identity = sso.identity_from(current_app.config["RELAIS_OIDC_ISSUER"], claims, claim_settings())
    match = run(lambda: sso.match_account(db.session, identity, utcnow())).value
    if match.user is None:
        log.info("single sign-on: no account for this identity (%s)", match.problem)
        return render_template("auth/sso_unknown.html", provider=provider_name(), problem=match.problem,
                               email=identity.email), 403
    target = session.pop(NEXT_KEY, "") or url_for("main.home")
    log_in(match.user)
    session[ID_TOKEN_KEY] = token.get("id_token")  # the hint of the log-out at the provider
    flash(_("Bienvenue, %(name)s.", name=match.user.full_name), "success")
    return redirect(safe_next(target, url_for("main.home")))


def _userinfo(provider, token: dict, subject: str) -> dict:
    """The provider's userinfo, as JSON or as a signed JWT (ProConnect signs it); its `sub` must be the ID
    token's."""
    endpoint = provider.load_server_metadata().get("userinfo_endpoint")
    if not endpoint:
        return {}
    response = provider.get(endpoint, token=token)
    response.raise_for_status()
    if response.headers.get("Content-Type", "").startswith("application/jwt"):
        keys = KeySet.import_key_set(provider.fetch_jwk_set())
        info = dict(jwt.decode(response.text, keys).claims)
    else:
        info = response.json()
    if str(info.get("sub")) != str(subject):
        raise ValueError("userinfo is about someone else")
    return info


def _problem(problem: str):
    return render_template("auth/sso_problem.html", provider=provider_name(), problem=problem), 400


def logout_redirect():
    """After the local log-out of a person who came through the provider: the provider's end of session, when it
    has one (id_token_hint, back to the log-in page); None otherwise."""
    id_token = session.pop(ID_TOKEN_KEY, None)
    if not id_token or not configured():
        return None
    try:
        metadata = client().load_server_metadata()
        if not metadata.get("end_session_endpoint"):
            return None
        target = client().create_logout_url(post_logout_redirect_uri=url_for("auth.login", _external=True),
                                            id_token_hint=id_token)
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as error:
        log.warning("single sign-on: no log-out at the provider (%s)", error)
        return None
    return redirect(target["url"])
