"""The places of the coordination's territory: establishments (corrected when their details are wrong) and the
units trainers leave from (listed, created and corrected one at a time; the register import does many)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select, tuple_

from app.access import load, permission
from app.converters import db_id
from app.coordination import bp
from app.coordination.forms import (
    UNIT_KIND_LABELS,
    EstablishmentCorrectionForm,
    EstablishmentSearchForm,
    NewUnitForm,
    UnitForm,
)
from app.domain.clock import utcnow
from app.domain.establishments import CommuneError, correct_details
from app.domain.identifiers import normalize_siret, normalize_uai
from app.domain.keyset import cut
from app.domain.policies import ESTABLISHMENTS, STAFF, UNITS
from app.domain.units import UnitInput, save_unit
from app.extensions import db
from app.labels import KIND_LABELS
from app.models import Establishment, EstablishmentKind, Force, Role, Trainer, Unit, UnitKind
from app.unit_of_work import run

PAGE_SIZE = 50


# -- establishments ------------------------------------------------------------------------------------------


@bp.route("/etablissements")
@permission("establishment", "list")
def establishments():
    """The establishments of the territory by name, fifty at a time (keyset on name and id, app.domain.keyset)."""
    form = EstablishmentSearchForm(request.args)
    query = select(Establishment).where(ESTABLISHMENTS.rows(current_user))
    wanted = (form.nom.data or "").strip() if form.validate() else ""
    if wanted:
        pattern = f"%{wanted.lower()}%"
        query = query.where(or_(func.lower(Establishment.name).like(pattern),
                                func.lower(Establishment.commune_name).like(pattern)))
    after = request.args.get("apres", type=db_id)
    if after:  # the rows after that establishment, in the order of the names
        anchor = select(Establishment.name).where(Establishment.id == after).scalar_subquery()
        query = query.where(tuple_(Establishment.name, Establishment.id) > tuple_(anchor, after))
    found = db.session.scalars(query.order_by(Establishment.name, Establishment.id).limit(PAGE_SIZE + 1)).all()
    shown, next_after = cut(found, PAGE_SIZE, key=lambda establishment: establishment.id)
    search = {"nom": wanted} if wanted else {}
    return render_template(
        "coordination/establishments.html", establishments=shown, form=form, wanted=wanted, kinds=KIND_LABELS,
        next_url=url_for("coordination.establishments", apres=next_after, **search) if next_after else None,
        first_url=url_for("coordination.establishments", **search) if after else None)


@bp.route("/etablissements/<int:establishment_id>/modifier", methods=["GET", "POST"])
@permission("establishment", "edit", only=STAFF)
def edit_establishment(establishment_id: int):
    establishment = load("establishment", establishment_id, "edit")
    back_request = request.args.get("retour_demande", type=db_id)  # opened from that request's page
    form = EstablishmentCorrectionForm(obj=establishment, identifier=establishment.identifier or "",
                                       kind=establishment.kind.value)
    if form.validate_on_submit():
        kind = EstablishmentKind(form.kind.data)
        value = (form.identifier.data or "").strip()
        uai = normalize_uai(value) if value and kind.uses_uai else None
        siret = normalize_siret(value) if value and not kind.uses_uai else None
        outcome = run(lambda: correct_details(
            db.session, establishment, current_user, utcnow(), kind=kind, name=form.name.data, uai=uai, siret=siret,
            address=form.address.data, phone=form.phone.data, saturday_classes=form.saturday_classes.data))
        if outcome.ok:
            flash(_("Les informations de %(name)s sont corrigées.", name=establishment.name), "success")
            if back_request:
                return redirect(url_for("coordination.show", request_id=back_request))
            return redirect(url_for("coordination.establishments", nom=establishment.name))
        form.identifier.errors = [*form.identifier.errors, outcome.message()]
    return render_template("coordination/edit_establishment.html", form=form, establishment=establishment,
                           back_request=back_request), 400 if form.errors else 200


# -- units ---------------------------------------------------------------------------------------------------


@bp.route("/unites")
@permission("unit", "list")
def units():
    """The units of the territory (a few dozen), with how many trainers leave from each."""
    trainers = (select(func.count(Trainer.id)).where(Trainer.unit_id == Unit.id).correlate(Unit)
                .scalar_subquery().label("trainer_count"))
    rows = db.session.execute(select(Unit, trainers).where(UNITS.rows(current_user))
                              .order_by(Unit.departement_code, Unit.force, Unit.name)).all()
    return render_template("coordination/units.html", rows=rows, kinds=UNIT_KIND_LABELS)


def _forces_of_scope() -> list[Force]:
    if current_user.role is Role.ADMIN or any(scope.force is None for scope in current_user.scopes):
        return list(Force)
    return sorted({scope.force for scope in current_user.scopes}, key=list(Force).index)


@bp.route("/unites/nouvelle", methods=["GET", "POST"])
@permission("unit", "create")
def create_unit():
    form = NewUnitForm()
    forces = _forces_of_scope()
    form.force.choices = [choice for choice in form.force.choices if Force(choice[0]) in forces]
    if form.validate_on_submit() and (unit := _save(form, None)) is not None:
        flash(_("Unité %(name)s créée.", name=unit.name), "success")
        return redirect(url_for("coordination.units"))
    return render_template("coordination/unit_form.html", form=form, unit=None), 400 if form.errors else 200


@bp.route("/unites/<int:unit_id>/modifier", methods=["GET", "POST"])
@permission("unit", "edit")
def edit_unit(unit_id: int):
    unit = load("unit", unit_id, "edit")
    form = UnitForm(obj=unit, kind=unit.kind.value)
    del form.force  # the force of its trainers: it stays
    if form.validate_on_submit() and (saved := _save(form, unit)) is not None:
        flash(_("Unité %(name)s enregistrée.", name=saved.name), "success")
        return redirect(url_for("coordination.units"))
    return render_template("coordination/unit_form.html", form=form, unit=unit), 400 if form.errors else 200


def _save(form: UnitForm, unit: Unit | None) -> Unit | None:
    """The unit saved, or None with the reason next to its field."""
    force = unit.force if unit is not None else Force(form.force.data)
    given = UnitInput(name=form.name.data, kind=UnitKind(form.kind.data), force=force,
                      postcode=form.postcode.data or None, commune_insee=form.commune_insee.data or None,
                      commune_name=form.commune_name.data or None)
    try:
        outcome = run(lambda: save_unit(db.session, current_user, unit, given))
    except CommuneError as problem:
        message = str(problem.message)
        if problem.choices:
            message += " " + ", ".join(f"{c.name} ({c.insee_code})" for c in problem.choices)
        form.commune_insee.errors = [*form.commune_insee.errors, message]
        return None
    if outcome.ok:
        return outcome.value
    target = form.name if outcome.refusal.code == "unit_name_taken" else form.postcode
    target.errors = [*target.errors, outcome.message()]
    return None
