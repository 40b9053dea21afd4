"""Who calls the API: a personal access token in `Authorization: Bearer …`, never a cookie.

`authenticate` (before every view of the API) finds the live token and its person, notes its use (at most once a
minute) and sets `g.api_user` and `g.api_token`; without one the answer is 401. `api_permission(resource, action)`
is the API's `@permission`: the same policy table, the role gate (403), and a write needs a read-and-write token;
`load(resource, id, action)` is the API's `access.load` (404 outside the scope). The route audit reads the
(resource, action) each view declares, as for the pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden, NotFound, Unauthorized

from app.domain import access_tokens, audit
from app.domain.clock import utcnow
from app.domain.policies import POLICIES
from app.extensions import db
from app.models import AccessToken, User

READ_ONLY = _l("Ce jeton est en lecture seule : créez un jeton « Lecture et écriture » pour cette action.")


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def rate_key() -> str:
    """The rate limits' key: one bucket per token (its hash: the key never holds the token itself), one for the
    calls without any."""
    secret = bearer_secret()
    return "api-token:" + (hashlib.sha256(secret.encode()).hexdigest()[:32] if secret else "none")


def authenticate() -> None:
    secret = bearer_secret()
    now = utcnow()
    token = access_tokens.authenticate(db.session, secret, now) if secret else None
    if token is None:
        raise Unauthorized()
    if access_tokens.needs_touch(token, now):
        # Its own short transaction: the request's own (read only, or its unit of work) stays as it is.
        with db.engine.begin() as connection:
            access_tokens.touch(connection, token.id, now)
    g.api_token = token
    g.api_user = token.user
    _audit(token)


def _audit(token: AccessToken) -> None:
    """The audit trail's context (app.domain.audit): every change made by a call of the API is done by a person
    through one of their tokens."""
    audit.update_context(token_id=token.id, actor=audit.Actor(token.user_id, token.user.full_name))


def current() -> User:
    return g.api_user


def forbidden(detail=None) -> Forbidden:
    error = Forbidden()
    error.api_detail = detail
    return error


def api_permission(resource: str, action: str, *, write: bool = False, only: Iterable | None = None) -> Callable:
    """Declares the action a view of the API performs: 403 for the roles that may never perform it, and for a
    read-only token when it writes."""
    allowed = POLICIES[resource].roles_for(action)
    if only is not None:
        allowed = frozenset(only) & allowed

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current().role not in allowed:
                raise forbidden()
            if write and not access_tokens.may_write(g.api_token):
                raise forbidden(READ_ONLY)
            return view(*args, **kwargs)

        wrapped.permission = (resource, action)
        wrapped.allowed_roles = allowed
        wrapped.api_write = write
        return wrapped

    return decorator


def may(resource: str, action: str, obj: Any = None) -> bool:
    return POLICIES[resource].allows(current(), action, obj)


def load(resource: str, object_id: int, action: str, options: Iterable = ()) -> Any:
    """The object of that id if the token's person may act on it; else 404, like the pages."""
    policy = POLICIES[resource]
    obj = db.session.get(policy.model, object_id, options=list(options))
    if obj is None or not policy.allows(current(), action, obj):
        raise NotFound()
    return obj


__all__ = ["api_permission", "authenticate", "current", "load", "may", "rate_key"]
