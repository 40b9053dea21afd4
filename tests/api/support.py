"""Builders for the API tests: a person's personal access token, and calling the API with it."""

from __future__ import annotations

from app.domain import access_tokens
from app.domain.clock import utcnow
from app.extensions import db
from app.models import TokenScope, User


def token_for(user: User, scope: TokenScope = TokenScope.READ_WRITE, *, name: str = "Tableur", days: int = 365) -> str:
    """A new token of this person (committed), its secret returned."""
    made = access_tokens.create_token(db.session, user, name, scope, utcnow(), days=days)
    db.session.commit()
    return made.secret


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}
