"""Single sign-on through an OpenID Connect provider (issue #21), aimed at ProConnect: the rules, without Flask.

The web side (app/auth/sso.py) runs the authorization code flow with Authlib (PKCE, state, nonce, the ID token's
signature checked against the provider's keys, userinfo); this module decides who the verified identity is:

- an account already linked to this issuer and `sub` is that person, whatever e-mail the provider now gives;
- else an account whose e-mail is the identity's *verified* e-mail, not yet linked to another identity of this
  provider, is linked now (the `sub` kept): the trainer imported in the roster, the coordinator an admin created,
  the establishment's staff who registered; its address counts as confirmed;
- else nobody: the person sees whom to ask. Roles, scopes and establishments never come from the provider.

The national setting « connexion unique obligatoire pour les coordinations et les administrateurs » is the one row
of `sign_in_settings`; when on, their password sign-in is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Role, SignInSettings, User
from app.models.accounts import normalize_email

STAFF = frozenset({Role.COORDINATOR, Role.ADMIN})


@dataclass(frozen=True)
class ClaimSettings:
    """Which claims say what (RELAIS_OIDC_* settings). `trust_email`: the provider only gives verified addresses
    (ProConnect's agents' addresses are checked by their administration) even without `email_verified`."""

    email: str = "email"
    email_verified: str = "email_verified"
    given_name: str = "given_name"
    family_name: str = "usual_name"
    trust_email: bool = False


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    given_name: str
    family_name: str

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)


def identity_from(issuer: str, claims: Mapping[str, object], settings: ClaimSettings) -> Identity:
    """The identity the provider vouches for, from the ID token's claims and userinfo (merged by the caller).
    The e-mail is verified when the configured claim says true, or when the provider is trusted and does not say
    false."""
    email = claims.get(settings.email)
    email = normalize_email(email) if isinstance(email, str) and "@" in email else None
    verified_claim = claims.get(settings.email_verified)
    if isinstance(verified_claim, str):
        verified_claim = verified_claim.strip().lower() == "true"
    verified = verified_claim is True or (settings.trust_email and verified_claim is None)
    return Identity(issuer=issuer, subject=str(claims.get("sub") or ""), email=email,
                    email_verified=bool(email) and verified,
                    given_name=str(claims.get(settings.given_name) or "").strip(),
                    family_name=str(claims.get(settings.family_name) or "").strip())


@dataclass(frozen=True)
class Match:
    """The outcome of a sign-in: the person, or why there is none (`unknown`, `unverified`, `inactive`,
    `linked_elsewhere`, `no_subject`). `linked_now`: the identity was linked at this sign-in."""

    user: User | None
    problem: str | None = None
    linked_now: bool = False


def match_account(session: Session, identity: Identity, now: datetime) -> Match:
    if not identity.subject:
        return Match(None, "no_subject")
    user = session.scalar(select(User).where(User.oidc_issuer == identity.issuer,
                                             User.oidc_subject == identity.subject))
    if user is not None:
        return Match(user) if user.active else Match(None, "inactive")
    if identity.email is None or not identity.email_verified:
        return Match(None, "unverified")
    user = session.scalar(select(User).where(User.email == identity.email))
    if user is None:
        return Match(None, "unknown")
    if not user.active:
        return Match(None, "inactive")
    if user.oidc_subject is not None and user.oidc_issuer == identity.issuer:
        return Match(None, "linked_elsewhere")  # the address now belongs to another identity of the provider
    user.oidc_issuer, user.oidc_subject = identity.issuer, identity.subject
    if user.activated_at is None:
        user.activated_at = now  # the provider's verified address confirms it
    session.flush()
    return Match(user, linked_now=True)


# -- the national setting -------------------------------------------------------------------------------------------


def settings(session: Session) -> SignInSettings:
    """The settings row (a transient one with the defaults when none was saved)."""
    return session.get(SignInSettings, 1) or SignInSettings(id=1, sso_required_for_staff=False)


def sso_required_for(session: Session, user: User) -> bool:
    """Whether this person's password sign-in is refused: a coordinator or admin while SSO is required."""
    return user.role in STAFF and settings(session).sso_required_for_staff


def set_sso_required(session: Session, actor: User, required: bool, now: datetime) -> SignInSettings:
    row = session.get(SignInSettings, 1, with_for_update=True)
    if row is None:
        row = SignInSettings(id=1)
        session.add(row)
    row.sso_required_for_staff = required
    row.updated_at = now
    row.updated_by_id = actor.id
    session.flush()
    return row
