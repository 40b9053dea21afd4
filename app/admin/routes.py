"""National administration: accounts, invitations, the e-mail outbox and the coordinations' addresses."""

from __future__ import annotations

from email.utils import parseaddr

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.access import permission
from app.admin import bp
from app.admin.forms import CoordinationOfficeForm, InviteUserForm, RetryForm
from app.converters import db_id
from app.domain.clock import utcnow
from app.domain.coordination_offices import COORDINATOR, OFFICE, default_name, office_table, save_office
from app.domain.keyset import cut
from app.domain.mail import retry_message
from app.domain.policies import departements_of
from app.domain.vocabulary import force_label
from app.emails import queue_activation
from app.extensions import db
from app.models import CoordinatorScope, Departement, Force, MessageStatus, OutgoingMessage, Role, User
from app.models.accounts import normalize_email
from app.unit_of_work import run

PAGE_SIZE = 50


@bp.route("/utilisateurs")
@permission("account", "list")
def users():
    query = select(User).options(selectinload(User.scopes)).order_by(User.id)
    role = request.args.get("role", "")
    search = request.args.get("q", "").strip()
    after = request.args.get("apres", type=db_id)
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(func.lower(User.full_name).like(pattern), User.email.like(pattern)))
    if after:
        query = query.where(User.id > after)  # keyset pagination: deep pages cost what the first does
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1)).all()
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_template("admin/users.html", users=rows, role=role, search=search, Role=Role,
                           next_after=rows[-1].id if has_more else None, first_page=not after)


@bp.route("/utilisateurs/inviter", methods=["GET", "POST"])
@permission("account", "invite")
def invite_user():
    form = InviteUserForm()
    form.departements.choices = departements_of(db.session, current_user)
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        if User.by_email(email) is not None:
            form.email.errors.append(_("Un compte existe déjà avec cette adresse."))
        else:
            def invite():
                user = User(email=email, full_name=form.full_name.data.strip(), role=Role(form.role.data),
                            invited_by_id=current_user.id)
                if user.role is Role.COORDINATOR:
                    force = Force(form.force.data) if form.force.data else None
                    user.scopes = [CoordinatorScope(departement_code=code, force=force)
                                   for code in form.departements.data]
                db.session.add(user)
                db.session.flush()
                queue_activation(user, inviter=current_user)

            run(invite)
            flash(_("Invitation envoyée à %(email)s.", email=email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form)


@bp.route("/messages")
@permission("account", "outbox")
def outbox():
    status = request.args.get("statut", "")
    after = request.args.get("apres", type=db_id)
    query = select(OutgoingMessage).order_by(OutgoingMessage.id.desc()).limit(PAGE_SIZE + 1)
    if status in {s.value for s in MessageStatus}:
        query = query.where(OutgoingMessage.status == status)
    if after:
        query = query.where(OutgoingMessage.id < after)  # the latest first, a page at a time (keyset on the id)
    messages, next_after = cut(db.session.scalars(query).all(), PAGE_SIZE, lambda message: message.id)
    kept = {"statut": status} if status else {}
    counts = dict(db.session.execute(
        select(OutgoingMessage.status, func.count(OutgoingMessage.id)).group_by(OutgoingMessage.status)
    ).all())
    return render_template("admin/outbox.html", messages=messages, counts=counts, status=status,
                           MessageStatus=MessageStatus, retry_form=RetryForm(),
                           next_url=url_for("admin.outbox", apres=next_after, **kept) if next_after else None,
                           first_url=url_for("admin.outbox", **kept) if after else None)


@bp.route("/messages/<int:message_id>/renvoyer", methods=["POST"])
@permission("account", "outbox")
def retry(message_id: int):
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400)
    if run(lambda: retry_message(db.session, message_id, utcnow())).value:
        flash(_("Le message sera renvoyé au prochain passage de l'envoi."), "success")
    else:
        flash(_("Ce message n'est pas en échec : rien à renvoyer."), "warning")
    return redirect(url_for("admin.outbox", statut="failed"))


@bp.route("/coordinations")
@permission("coordination_office", "list")
def coordination_offices():
    """Every département and force with the address answers to its invitations reach (or what stands in)."""
    departements = departements_of(db.session, current_user)
    chosen = request.args.get("departement", "")
    if chosen not in {code for code, _ in departements}:
        chosen = ""
    rows = office_table(db.session, current_app.config["MAIL_DEFAULT_SENDER"], chosen or None)
    return render_template("admin/coordination_offices.html", rows=rows, departements=departements, chosen=chosen,
                           OFFICE=OFFICE, COORDINATOR=COORDINATOR)


@bp.route("/coordinations/<departement_code>/<force>", methods=["GET", "POST"])
@permission("coordination_office", "edit")
def edit_coordination_office(departement_code: str, force: str):
    departement = db.session.get(Departement, departement_code)
    if departement is None or force not in {f.value for f in Force}:
        abort(404)
    force_ = Force(force)
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    territory = f"{departement.label}, {force_label(force_)}"
    [row] = [r for r in office_table(db.session, sender, departement.code) if r.force is force_]
    form = CoordinationOfficeForm(obj=row.office)
    form.display_name.description = _("Facultatif. Par défaut : « %(name)s ».",
                                      name=default_name(departement.label, force_))
    if form.validate_on_submit():
        email = (form.email.data or "").strip()
        if email and email.lower() == parseaddr(sender)[1].lower():
            form.email.errors.append(_("Cette adresse est celle des envois automatiques, que personne ne lit : "
                                       "indiquez une boîte de la coordination."))
        else:
            run(lambda: save_office(db.session, departement_code=departement.code, force=force_, email=email,
                                    display_name=form.display_name.data or "", actor=current_user, now=utcnow()))
            flash(_("Adresse de la coordination enregistrée pour %(territory)s.",
                    territory=territory) if email else
                  _("Adresse de la coordination retirée pour %(territory)s : les réponses iront à un coordinateur "
                    "du territoire.", territory=territory), "success")
            return redirect(url_for("admin.coordination_offices", departement=departement.code))
    return render_template("admin/coordination_office_edit.html", form=form, row=row, territory=territory,
                           OFFICE=OFFICE, COORDINATOR=COORDINATOR)
