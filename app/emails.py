"""Composes the application's e-mails from templates, in the recipient's language, into the outbox."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.domain import tokens
from app.domain.clock import utcnow
from app.domain.mail import queue_email
from app.extensions import db
from app.models import User


def absolute_url(endpoint: str, **values) -> str:
    """Links in e-mails point at the public address, not at whatever host served the request."""
    return current_app.config["RELAIS_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def queue_templated_email(recipient: User | str, template: str, subject, dedup_key: str | None = None,
                          language: str | None = None, **context) -> None:
    address = recipient.email if isinstance(recipient, User) else recipient
    language = language or (recipient.language if isinstance(recipient, User) else "fr")
    with force_locale(language):
        context.setdefault("recipient", recipient)
        translated_subject = str(subject)  # a lazy string, translated here
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", subject=translated_subject, **context)
    queue_email(db.session, recipient=address, subject=f"[Relais] {translated_subject}", body_text=text,
                body_html=html, dedup_key=dedup_key, now=utcnow())


def queue_password_reset(user: User) -> None:
    token = tokens.make_token(current_app.config["SECRET_KEY"], tokens.PASSWORD_RESET, user.id, user.password_hash)
    queue_templated_email(user, "password_reset", _l("Réinitialisation de votre mot de passe"),
                          link=absolute_url("auth.reset_password", token=token),
                          hours=current_app.config["RELAIS_RESET_TOKEN_HOURS"])


def queue_activation(user: User, inviter: User | None = None) -> None:
    """Invitation (no password yet) or confirmation of a self-registered address."""
    token = tokens.make_token(current_app.config["SECRET_KEY"], tokens.ACTIVATION, user.id, user.password_hash)
    template = "invitation" if user.password_hash is None else "confirm_registration"
    subject = (_l("Invitation à rejoindre Relais") if user.password_hash is None
               else _l("Confirmez votre adresse e-mail"))
    queue_templated_email(user, template, subject, link=absolute_url("auth.activate", token=token),
                          inviter=inviter, days=current_app.config["RELAIS_ACTIVATION_TOKEN_DAYS"])
