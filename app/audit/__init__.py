"""The audit trail's pages (#21): the admins' search and export, a coordinator's history of an object; and who acts
in each request (app.domain.audit's context: the person logged in, their address)."""

from flask import Blueprint, g, request
from flask_login import current_user

from app.domain import audit

bp = Blueprint("audit", __name__)


def person_logged_in() -> audit.Actor:
    """Read when the transaction commits: the person logged in by then (who may have just logged in)."""
    user = current_user
    if user and user.is_authenticated:
        return audit.Actor(user.id, user.full_name)
    return audit.Actor(None, "")


@bp.before_app_request
def _set_audit_context() -> None:
    # remote_addr: the client's address as app.operations.TrustedProxies has set it from the configured proxies.
    g.audit_context_token = audit.set_context(audit.AuditContext(actor=person_logged_in,
                                                                 address=request.remote_addr))


@bp.teardown_app_request
def _reset_audit_context(_error) -> None:
    token = g.pop("audit_context_token", None)
    if token is not None:
        try:
            audit.reset_context(token)
        except ValueError:  # set in another context (a streamed response's generator): nothing to undo here
            pass


from app.audit import routes  # noqa: E402,F401
