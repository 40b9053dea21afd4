"""Access checks used at the top of every view: roles by decorator, scope on loaded objects."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.models import Force, Role, User


def role_required(*roles: Role | str) -> Callable:
    """Log-in required, then 403 unless the user has one of the roles."""
    allowed = {Role(role) for role in roles}

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # read by the test that walks every route
        return wrapped

    return decorator


def public(view: Callable) -> Callable:
    """Marks a view as open to anonymous visitors, so the route audit knows it was intended."""
    view.allowed_roles = None
    return view


def covers(user: User, departement_code: str, force: Force | str | None) -> bool:
    """Whether a coordinator (or admin, who sees everything) may act on this territory."""
    if user.role is Role.ADMIN:
        return True
    if user.role is not Role.COORDINATOR:
        return False
    return any(scope.covers(departement_code, force) for scope in user.scopes)


def require_scope(user: User, departement_code: str, force: Force | str | None) -> None:
    """404, not 403: a coordinator must not learn what exists outside their scope."""
    if not covers(user, departement_code, force):
        abort(404)
