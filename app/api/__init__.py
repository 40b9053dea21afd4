"""The JSON API, /api/v1 (issue #22): the same policies and domain functions as the pages, for programs.

- `auth`: personal access tokens (`Authorization: Bearer relais_pat_…`), never cookies — so no CSRF token either;
  the role gate and object scope of app.domain.policies, a read-only token refused any write;
- `routes`: the views (flask-smorest: marshmallow schemas → the OpenAPI 3.1 document), keyset pages (`after`,
  `limit`, a `next` link and a Link header), a weak ETag on every read (If-None-Match → 304), a rate limit per token;
- `problems`: every error as RFC 9457 problem details, in the language of Accept-Language;
- `docs`: /api/v1/openapi.json and /api/v1/docs, a page rendered here from that document (no script).
"""

from __future__ import annotations

import os

from flask import Flask, current_app, g, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException


class RelaisApi(Api):
    """flask-smorest's Api, its errors left to the API's blueprint (problem details, not the whole app's)."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        pass


INFO = ("L'API de Relais : les demandes d'intervention, les interventions, les propositions, les formateurs, les "
        "comptes rendus et les statistiques, avec les mêmes règles que les pages.\n\n"
        "Chaque appel porte un jeton d'accès personnel, créé sur la page « Jetons d'accès à l'API » du compte : "
        "`Authorization: Bearer relais_pat_…`. Le jeton agit au nom de la personne, avec son rôle et son périmètre ; "
        "un jeton « lecture seule » ne peut rien modifier.\n\n"
        "Les listes se lisent page par page (`after`, l'identifiant du dernier élément lu, et `limit`) ; la page "
        "suivante est dans `next` et dans l'en-tête `Link`. Chaque lecture porte un `ETag` (réponse 304 avec "
        "`If-None-Match`). Les erreurs sont des « problem details » (RFC 9457) en français, ou en anglais avec "
        "`Accept-Language: en`.")


def init_app(app: Flask) -> None:
    from app.api import docs, routes
    from app.api.auth import authenticate, rate_key
    from app.api.problems import TITLES, http_problem
    from app.extensions import csrf, limiter

    app.config.setdefault("API_TITLE", "Relais")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", None)  # served by app.api.docs instead
    # Calls a token may make (Flask-Limiter's notation), and the longest lifetime a token may be given, in days.
    app.config.setdefault("RELAIS_API_RATE_LIMIT", os.environ.get("RELAIS_API_RATE_LIMIT", "600/minute"))
    app.config.setdefault("RELAIS_API_TOKEN_MAX_DAYS", int(os.environ.get("RELAIS_API_TOKEN_MAX_DAYS", "365")))
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": INFO},
        "servers": [{"url": "/", "description": "Ce serveur"}],
        "security": [{"jeton": []}],
        "components": {"securitySchemes": {"jeton": {
            "type": "http", "scheme": "bearer", "bearerFormat": "relais_pat_…",
            "description": "Un jeton d'accès personnel (page « Jetons d'accès à l'API » du compte)."}}},
    })
    blp = routes.blp
    if not getattr(blp, "_relais_ready", False):  # one blueprint object, several apps (the tests)
        blp.before_request(authenticate)
        blp.after_request(_finish)
        blp.register_error_handler(HTTPException, http_problem)
        for code in TITLES:  # before the app's own pages for these codes (a code's handler wins over a class's)
            blp.register_error_handler(code, http_problem)
        limiter.limit(lambda: current_app.config["RELAIS_API_RATE_LIMIT"], key_func=rate_key)(blp)
        csrf.exempt(blp)  # bearer tokens only, never cookies: there is no cross-site request to forge
        blp._relais_ready = True
    api = RelaisApi(app)
    app.cli.commands.pop("openapi", None)  # flask-smorest's own commands: the document is served, not written
    api.register_blueprint(blp)
    app.extensions["relais_api"] = api
    app.register_blueprint(docs.bp, url_prefix="/api/v1")


def _finish(response):
    """A weak ETag on every read (304 to If-None-Match), caches told the answer is the token's own, and every read
    answered in the audit trail with its token (a write is there already: the changes it made)."""
    response.vary.add("Authorization")
    response.vary.add("Accept-Language")
    if request.method == "GET" and response.status_code == 200:
        response.add_etag(weak=True)
        response.headers["Cache-Control"] = "private, no-cache"
        response.make_conditional(request)
    else:
        response.headers.setdefault("Cache-Control", "no-store")
    if request.method == "GET" and response.status_code in (200, 304) and g.get("api_token") is not None:
        _record_read()
    return response


def _record_read() -> None:
    from app.domain import audit
    from app.extensions import db
    from app.unit_of_work import run

    what = f"api:{(request.endpoint or '').removeprefix('api.')}"
    object_id = next(iter((request.view_args or {}).values()), None)
    scope = audit.scope_text(request.args)
    count = g.get("api_count", 1)
    run(lambda: audit.record_read(db.session, what, scope, count, object_id))
