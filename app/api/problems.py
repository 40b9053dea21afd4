"""Errors of the API as RFC 9457 problem details (`application/problem+json`), in the reader's language.

Every error of the API blueprint comes here: an HTTP error (401 without a valid token, 403, 404 outside the
person's scope, 429 past the token's rate), a validation error of the input (422, each field named in `errors`,
with French messages like the forms'), and a refusal of the domain (409, `message_for` of app.domain.refusals, or
422 with the fields of an invalid request).
"""

from __future__ import annotations

import time

from flask import Response, json, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.domain.refusals import Refused, message_for
from app.domain.request_rules import Findings

PROBLEM_TYPE = "application/problem+json"

TITLES = {
    400: _l("Requête invalide"),
    401: _l("Authentification requise"),
    403: _l("Action non permise"),
    404: _l("Introuvable"),
    405: _l("Méthode non permise"),
    406: _l("Format non disponible"),
    409: _l("Action refusée"),
    413: _l("Requête trop volumineuse"),
    415: _l("Format de requête non pris en charge"),
    422: _l("Données invalides"),
    429: _l("Trop de requêtes"),
    500: _l("Erreur du serveur"),
}
DETAILS = {
    401: _l("Envoyez un jeton d'accès valide dans l'en-tête « Authorization: Bearer … » (créez-le sur la page « "
            "Jetons d'accès à l'API » de votre compte)."),
    403: _l("Votre rôle ou votre jeton ne permet pas cette action."),
    404: _l("Cette ressource n'existe pas, ou elle est hors de votre périmètre."),
    405: _l("Cette adresse n'accepte pas cette méthode."),
    415: _l("Envoyez les données en JSON (Content-Type: application/json)."),
    422: _l("Les données envoyées ne sont pas valides : voyez les champs signalés."),
    429: _l("Ce jeton a fait trop de requêtes : attendez avant de recommencer."),
}
# marshmallow's messages (English) → the forms' French ones; unknown messages are kept as they are.
FIELD_MESSAGES = {
    "Missing data for required field.": _l("Ce champ est obligatoire."),
    "Field may not be null.": _l("Ce champ est obligatoire."),
    "Not a valid integer.": _l("Saisissez un nombre entier."),
    "Not a valid number.": _l("Saisissez un nombre."),
    "Not a valid string.": _l("Saisissez un texte."),
    "Not a valid boolean.": _l("Saisissez true ou false."),
    "Not a valid date.": _l("Saisissez une date au format AAAA-MM-JJ."),
    "Not a valid time.": _l("Saisissez une heure au format HH:MM."),
    "Not a valid datetime.": _l("Saisissez une date et une heure au format ISO 8601."),
    "Not a valid list.": _l("Saisissez une liste."),
    "Not a valid mapping type.": _l("Saisissez un objet JSON."),
    "Invalid input type.": _l("Saisissez un objet JSON."),
    "Unknown field.": _l("Ce champ n'existe pas."),
    "Invalid value.": _l("Valeur non permise."),
}


def _field_message(message: str) -> str:
    if message in FIELD_MESSAGES:
        return str(FIELD_MESSAGES[message])
    if message.startswith("Must be one of"):
        return _("Choisissez une des valeurs permises.")
    if message.startswith(("Must be greater", "Must be less")):
        return _("Cette valeur est hors des limites permises.")
    if message.startswith(("Shorter than", "Longer than", "Length must")):
        return _("Cette longueur n'est pas permise.")
    return message


def _flatten(messages, prefix: str = "") -> list[dict[str, str]]:
    """webargs' nested {location: {field: [messages]}} (or {field: {index: …}}) as [{field, message}]."""
    found = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            found += _flatten(value, name)
    elif isinstance(messages, list | tuple):
        for value in messages:
            found += _flatten(value, prefix)
    else:
        found.append({"field": prefix or None, "message": _field_message(str(messages))})
    return found


def problem(status: int, detail: str | None = None, *, code: str | None = None, errors: list | None = None,
            headers: dict | None = None) -> Response:
    """The problem details of an error, its `type` the documentation's entry for its code."""
    docs = url_for("api_docs.documentation", _external=True)
    body = {"type": f"{docs}#probleme-{code or status}", "title": str(TITLES.get(status, TITLES[400])),
            "status": status, "detail": str(detail or DETAILS.get(status, TITLES.get(status, ""))),
            "instance": request.full_path.rstrip("?")}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_TYPE)
    response.headers["Content-Language"] = _content_language()
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _content_language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "fr")


def http_problem(error: HTTPException) -> Response:
    """Any HTTP error of the API blueprint."""
    status = error.code or 500
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="Relais"'
    if status == 429:
        headers["Retry-After"] = str(_retry_after())
    if status == 422:
        messages = (getattr(error, "data", None) or {}).get("messages", {})
        # The location (json, query…) is not part of the field's name.
        errors = [item for location in messages.values() for item in _flatten(location)] if messages else []
        return problem(422, code="validation", errors=errors)
    detail = getattr(error, "api_detail", None)
    return problem(status, detail, code=getattr(error, "api_code", None), headers=headers)


def _retry_after() -> int:
    from app.extensions import limiter

    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()) + 1)


def refusal_problem(refusal: Refused) -> Response:
    """A refusal of the domain: 422 with the fields of an invalid request, else 409 with its sentence."""
    findings: Findings | None = getattr(refusal, "findings", None)
    if findings is not None:
        errors = [{"field": name.replace("-", "."), "message": str(message)}
                  for name, messages in findings.errors.items() for message in messages]
        return problem(422, message_for(refusal), code=refusal.code, errors=errors)
    return problem(409, message_for(refusal), code=refusal.code)

