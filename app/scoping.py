"""Query filters that restrict a listing to what the current user may see."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from app.domain.establishments import without_active_member
from app.models import (
    Departement,
    Establishment,
    Intervention,
    InterventionRequest,
    JoinRequest,
    JoinStatus,
    RequestStatus,
    Role,
    Trainer,
    User,
)
from app.models.trainers import trainer_departement


def _territory_condition(user: User, departement_column, force_matches: Callable) -> ColumnElement[bool]:
    """Everything for an admin, nothing without a scope, else any (département, force) of the scope.

    `force_matches(force)` says what "in that force" means for the rows at hand."""
    if user.role is Role.ADMIN:
        return true()
    if user.role is not Role.COORDINATOR or not user.scopes:
        return false()
    conditions = []
    for scope in user.scopes:
        condition = departement_column == scope.departement_code
        if scope.force is not None:
            condition = and_(condition, force_matches(scope.force))
        conditions.append(condition)
    return or_(*conditions)


def trainers_in_scope(user: User) -> Select:
    """Trainers serving a département of the coordinator's scope, in a force of that scope."""
    return select(Trainer).where(trainer_scope_condition(user))


def trainer_scope_condition(user: User) -> ColumnElement[bool]:
    """The same rule as a WHERE condition (an EXISTS, so a trainer serving two départements appears once)."""
    condition = _territory_condition(user, trainer_departement.c.departement_code,
                                     lambda force: Trainer.force == force)
    if user.role is not Role.COORDINATOR or not user.scopes:
        return condition
    return exists().where(trainer_departement.c.trainer_id == Trainer.id, condition)


def requests_in_scope(user: User) -> Select:
    """Submitted (not draft) requests of the coordinator's territory; force-less ones go to every
    coordinator of the département, who decides the force."""
    return select(InterventionRequest).where(
        InterventionRequest.status != RequestStatus.DRAFT,
        _territory_condition(user, InterventionRequest.departement_code,
                             lambda force: or_(InterventionRequest.force == force,
                                               InterventionRequest.force.is_(None))))


def establishment_scope_condition(user: User) -> ColumnElement[bool]:
    """Establishments of the coordinator's territory; those whose force is undecided, for both forces."""
    return _territory_condition(user, Establishment.departement_code,
                                lambda force: or_(Establishment.force == force, Establishment.force.is_(None)))


def orphan_join_requests(user: User) -> Select:
    """Pending requests to join an establishment of the territory where no active member can decide: the
    coordination decides them."""
    return (select(JoinRequest).join(Establishment, Establishment.id == JoinRequest.establishment_id)
            .where(JoinRequest.status == JoinStatus.PENDING, establishment_scope_condition(user),
                   without_active_member()))


def interventions_in_scope(user: User) -> Select:
    """Sessions of the coordinator's territory and force (sessions exist once the force is decided)."""
    return select(Intervention).where(intervention_scope_condition(user))


def intervention_scope_condition(user: User) -> ColumnElement[bool]:
    return _territory_condition(user, Intervention.departement_code, lambda force: Intervention.force == force)


def departements_of(session: Session, user: User) -> list[tuple[str, str]]:
    """(code, « code – name ») of the départements the user works in, by code: every one for an admin. Plain
    rows, for the filters of long lists (a hundred options on every view)."""
    query = select(Departement.code, Departement.name).order_by(Departement.code)
    if user.role is not Role.ADMIN:
        query = query.where(Departement.code.in_({scope.departement_code for scope in user.scopes}))
    return [(code, Departement.label_of(code, name)) for code, name in session.execute(query)]
