"""Access at the top of every view, from the policies (app.domain.policies): the role gate of the action a
view performs, and its object loaded only when the person may act on it.

- `@permission(resource, action)`: log-in required, then 403 unless the person's role may ever perform the
  action (the policy's table). The route audit reads the (resource, action) each view declares.
- `load(resource, id, action)`: the object, or 404 when it is missing or outside the person's scope: a
  coordinator must not learn what exists elsewhere, nor a school what another one asked.
- `@public`: open to anonymous visitors, on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import select

from app.domain.policies import POLICIES
from app.extensions import db
from app.models import Establishment, Role, Trainer


def permission(resource: str, action: str, only: Iterable[Role] | None = None) -> Callable:
    """Declares the action a view performs; refuses (403) the roles that may never perform it. `only`: the view
    serves these roles' side of the action (a requester's list of requests is not the coordination's)."""
    allowed = POLICIES[resource].roles_for(action)  # a typo fails at import, not at the first visit
    if only is not None:
        if not set(only) <= allowed:
            raise ValueError(f"{resource}/{action}: {set(only) - allowed} may not perform it")
        allowed = frozenset(only)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = (resource, action)  # read by the route audit
        wrapped.allowed_roles = allowed
        return wrapped

    return decorator


def public(view: Callable) -> Callable:
    """Marks a view as open to anonymous visitors, so the route audit knows it was intended."""
    view.permission = None
    view.allowed_roles = None
    return view


def may(resource: str, action: str, obj: Any = None) -> bool:
    """Whether the current person may perform the action (on the object): for what a page offers to do."""
    return POLICIES[resource].allows(current_user, action, obj)


def authorize(resource: str, action: str, obj: Any) -> Any:
    """The object when the current person may act on it; 404 otherwise (or when it is None)."""
    if obj is None or not POLICIES[resource].allows(current_user, action, obj):
        abort(404)
    return obj


def load(resource: str, object_id: int, action: str, options: Iterable = ()) -> Any:
    """The object of that id, loaded with `options`, if the current person may act on it; else 404."""
    policy = POLICIES[resource]
    return authorize(resource, action, db.session.get(policy.model, object_id, options=list(options)))


def own_trainer() -> Trainer:
    """The trainer record of the person logged in (404 for an account without one)."""
    trainer = db.session.scalar(select(Trainer).where(Trainer.user_id == current_user.id))
    if trainer is None:
        abort(404)
    return trainer


def own_establishment() -> Establishment | None:
    """The establishment of the requester logged in, if they have one yet."""
    return current_user.establishment if current_user.establishment_id is not None else None
