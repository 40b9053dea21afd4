"""Composes the application's e-mails from templates, in the recipient's language, into the outbox."""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.domain import tokens
from app.domain.calendar import Organizer
from app.domain.clock import utcnow
from app.domain.coordination_offices import organizer_address
from app.domain.mail import queue_email
from app.extensions import db
from app.models import Role, User


def absolute_url(endpoint: str, **values) -> str:
    """Links in e-mails point at the public address, not at whatever host served the request."""
    return current_app.config["RELAIS_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def public_host() -> str | None:
    """The host of the public address (RELAIS_BASE_URL): the domain of Message-IDs when the sender has none."""
    return urlsplit(current_app.config["RELAIS_BASE_URL"]).hostname


def coordination_of(intervention) -> Organizer | None:
    """The coordination answering for a session: the ORGANIZER of its invitations, the Reply-To of its e-mails;
    None when nobody does (no address set, no coordinator: the sender stands in, and nobody reads it)."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    organizer = organizer_address(db.session, intervention, sender)
    return None if organizer.email.lower() == parseaddr(sender)[1].lower() else organizer


def queue_templated_email(recipient: User | str, template: str, subject, dedup_key: str | None = None,
                          language: str | None = None, calendar: str | None = None,
                          calendar_method: str | None = None, **context):
    """Queues the e-mail; returns the outbox row, or None when its dedup key was already used. An e-mail about a
    session (`intervention` in the context) answers to its coordination (Reply-To, and `coordination` for the
    template), not to the sender nobody reads."""
    address = recipient.email if isinstance(recipient, User) else recipient
    language = language or (recipient.language if isinstance(recipient, User) else "fr")
    coordination = coordination_of(context["intervention"]) if context.get("intervention") is not None else None
    with force_locale(language):
        context.setdefault("recipient", recipient)
        context.setdefault("coordination", coordination)
        translated_subject = str(subject)  # a lazy string, translated here
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", subject=translated_subject, **context)
    return queue_email(db.session, recipient=address, subject=f"[Relais] {translated_subject}", body_text=text,
                body_html=html, dedup_key=dedup_key, calendar=calendar, calendar_method=calendar_method,
                reply_to=coordination.email if coordination is not None else None,
                now=utcnow())


def queue_password_reset(user: User) -> None:
    token = tokens.make_token(current_app.config["SECRET_KEY"], tokens.PASSWORD_RESET, user.id, user.password_hash,
                              user.email)
    queue_templated_email(user, "password_reset", _l("Réinitialisation de votre mot de passe"),
                          link=absolute_url("auth.reset_password", token=token),
                          hours=current_app.config["RELAIS_RESET_TOKEN_HOURS"])


def queue_activation(user: User, inviter: User | None = None) -> None:
    """Invitation (no password yet) or confirmation of a self-registered address."""
    token = tokens.make_token(current_app.config["SECRET_KEY"], tokens.ACTIVATION, user.id, user.password_hash,
                              user.email)
    template = "invitation" if user.password_hash is None else "confirm_registration"
    subject = (_l("Invitation à rejoindre Relais") if user.password_hash is None
               else _l("Confirmez votre adresse e-mail"))
    queue_templated_email(user, template, subject, link=absolute_url("auth.activate", token=token),
                          inviter=inviter, days=current_app.config["RELAIS_ACTIVATION_TOKEN_DAYS"])


LINKS_ONLY = "relais.links_only"


def url_context():
    """A request context for building links outside a request (CLI, periodic jobs); none needed inside one."""
    from contextlib import nullcontext

    from flask import has_request_context

    if has_request_context():
        return nullcontext()
    # Marked, so that nothing meant for real requests runs when it closes (the development console
    # delivery would end the caller's transaction).
    return current_app.test_request_context(base_url=current_app.config["RELAIS_BASE_URL"],
                                            environ_overrides={LINKS_ONLY: True})


_NOTICE_SUBJECTS = {
    "submitted": _l("Nouvelle demande d'intervention à examiner"),
    "accepted": _l("Votre demande d'intervention est acceptée"),
    "refused": _l("Votre demande d'intervention n'a pas pu être retenue"),
    "request_cancelled": _l("Demande d'intervention annulée"),
    "session_cancelled": _l("Intervention annulée"),
    "session_confirmed": _l("Intervention confirmée"),
    "offer": _l("Nouvelle proposition d'intervention"),
    "assigned": _l("Une intervention vous est confiée"),
    "withdrawn": _l("Intervention retirée"),
    "offer_filled": _l("Proposition close : intervention complète"),
    "offer_expired": _l("Proposition d'intervention expirée"),
    "needs_attention": _l("Intervention à reprendre"),
}
# Notices about an offer carry its details (place, time, audience, contact), not just a link.
_OFFER_NOTICES = ("offer", "assigned")


def queue_notices(notices) -> None:
    """E-mails telling the people concerned of a change in a request's life (see domain.lifecycle)."""
    for notice in notices:
        if notice.recipient.role is Role.REQUESTER:
            link = absolute_url("interventions.show", request_id=notice.request.id)
        elif notice.recipient.role is Role.TRAINER and notice.kind in _OFFER_NOTICES:
            # The session's own page: where it is, what was asked, and the answer buttons for an offer.
            link = absolute_url("trainers.session", intervention_id=notice.intervention.id)
        elif notice.recipient.role is Role.TRAINER:
            link = absolute_url("main.home")
        else:
            link = absolute_url("coordination.show", request_id=notice.request.id)
        template = "offer" if notice.kind in _OFFER_NOTICES else "request_notice"
        queue_templated_email(notice.recipient, template, _NOTICE_SUBJECTS[notice.kind], kind=notice.kind,
                              request=notice.request, intervention=notice.intervention, reason=notice.reason,
                              assignment=notice.assignment, link=link)


def queue_join_request(member: User, join_request) -> None:
    queue_templated_email(member, "join_request", _l("Demande pour rejoindre votre établissement"),
                          join_request=join_request, link=absolute_url("establishments.members"))


def queue_join_request_to_coordination(coordinator: User, join_request) -> None:
    """The establishment has no active member to approve the newcomer: the coordination decides."""
    queue_templated_email(coordinator, "join_request_coordination",
                          _l("Demande de rattachement à un établissement sans membre actif"),
                          join_request=join_request, link=absolute_url("coordination.join_requests"))


def queue_registration_to_coordination(coordinator: User, establishment, member: User) -> None:
    """A requester registered their establishment: the coordination of its territory confirms it."""
    queue_templated_email(coordinator, "registration_to_confirm",
                          _l("Nouvel établissement inscrit, à confirmer : %(name)s", name=establishment.name),
                          establishment=establishment, member=member, link=absolute_url("coordination.join_requests"))


def queue_registration_decision(member: User, establishment_name: str, confirmed: bool,
                                reason: str | None = None) -> None:
    subject = (_l("Inscription de votre établissement confirmée") if confirmed
               else _l("Inscription de votre établissement non confirmée"))
    queue_templated_email(member, "registration_decision", subject, establishment_name=establishment_name,
                          confirmed=confirmed, reason=reason, link=absolute_url("main.home"))


def queue_join_decision(join_request) -> None:
    queue_templated_email(join_request.user, "join_decision", _l("Votre demande de rattachement"),
                          join_request=join_request, link=absolute_url("main.home"))


def queue_colleague_invitation_for_existing_account(user: User, inviter: User) -> None:
    """The address already has an account: we never attach it without its owner's consent."""
    queue_templated_email(user, "colleague_invitation", _l("Invitation à rejoindre un établissement sur Relais"),
                          inviter=inviter, establishment=inviter.establishment,
                          link=absolute_url("establishments.join"))


def queue_email_change(user: User, new_email: str, requested_by: User | None) -> None:
    """Asks the owner to confirm a new login address (app.domain.email_change): the link goes to the new address,
    a notice to the current one; nothing changes until the link is followed."""
    from app.domain.email_change import VALIDITY, confirmation_token

    token = confirmation_token(current_app.config["SECRET_KEY"], user, new_email, utcnow())
    context = dict(user=user, new_email=new_email, requested_by=requested_by,
                   hours=int(VALIDITY.total_seconds()) // 3600, needs_password=user.password_hash is not None)
    queue_templated_email(new_email, "email_change_confirm", _l("Confirmez votre nouvelle adresse de connexion"),
                          language=user.language, link=absolute_url("auth.confirm_email_change_link", token=token),
                          **context)
    queue_templated_email(user, "email_change_notice", _l("Changement de l'adresse de connexion de votre compte"),
                          **context)
