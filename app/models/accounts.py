"""People who log in, their role, and the territorial scope of coordinators."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import utcnow
from app.models.base import db
from app.models.enums import Force, Role, enum_column


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    # The OpenID Connect identity (issue #21): the provider's `sub`, unique within its issuer.
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), index=True)  # the roster walks it in order
    phone: Mapped[str | None] = mapped_column(String(30))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    # None until the person sets a password (invitation or e-mail confirmation pending).
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(5), default="fr")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("establishment.id"), index=True
    )
    # Single sign-on (app.domain.sso): the provider's identity, kept at the first sign-in that matched the e-mail.
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    # The second factor (app.domain.two_factor): the TOTP secret, encrypted (Fernet); confirmed by a first code; the
    # last time step accepted, so that a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(500))
    totp_confirmed_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]

    scopes: Mapped[list[CoordinatorScope]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="CoordinatorScope.departement_code"
    )
    establishment: Mapped[Establishment | None] = relationship(  # noqa: F821
        back_populates="members", foreign_keys=[establishment_id]
    )

    # Set on the person of a request by their log-in session (app.auth.logins): Flask-Login's "id" of the
    # person is that log-in's token (`get_login_token`), so that ending the session logs its cookies out.
    login_token = None
    login_session_id = None

    def get_login_token(self) -> str:
        if self.login_token is None:
            raise RuntimeError("log people in through app.auth.logins.log_in: their log-in has no token yet")
        return self.login_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active and self.is_activated

    @property
    def is_activated(self) -> bool:
        """Password chosen (or the account linked to its single sign-on identity) and address confirmed (through
        the activation link, or by the provider's verified e-mail)."""
        return (self.password_hash is not None or self.oidc_subject is not None) and self.activated_at is not None

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {Role(role) for role in roles}

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return db.session.scalar(select(cls).where(cls.email == normalize_email(email)))


class CoordinatorScope(db.Model):
    """A coordinator plans one force (or both, when force is NULL) in one département."""

    __tablename__ = "coordinator_scope"
    __table_args__ = (UniqueConstraint("user_id", "departement_code", "force"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"))
    force: Mapped[Force | None] = mapped_column(enum_column(Force, "force"))

    user: Mapped[User] = relationship(back_populates="scopes")
    departement = relationship("Departement")

    def covers(self, departement_code: str, force: Force | str | None) -> bool:
        if self.departement_code != departement_code:
            return False
        return self.force is None or force is None or self.force == Force(force)


def normalize_email(email: str) -> str:
    return email.strip().lower()
