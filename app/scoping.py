"""Query filters that restrict a listing to what the current user may see."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true

from app.models import Intervention, InterventionRequest, RequestStatus, Role, Trainer, User
from app.models.trainers import trainer_departement


def trainers_in_scope(user: User) -> Select:
    """Trainers serving a département of the coordinator's scope, in a force of that scope."""
    return select(Trainer).where(trainer_scope_condition(user))


def trainer_scope_condition(user: User) -> ColumnElement[bool]:
    """The same rule as a WHERE condition (an EXISTS, so a trainer serving two départements appears once)."""
    if user.role is Role.ADMIN:
        return true()
    if user.role is not Role.COORDINATOR or not user.scopes:
        return false()
    conditions = []
    for scope in user.scopes:
        condition = trainer_departement.c.departement_code == scope.departement_code
        if scope.force is not None:
            condition = and_(condition, Trainer.force == scope.force)
        conditions.append(condition)
    return exists().where(trainer_departement.c.trainer_id == Trainer.id, or_(*conditions))


def requests_in_scope(user: User) -> Select:
    """Submitted (not draft) requests of the coordinator's territory; force-less ones go to every
    coordinator of the département, who decides the force."""
    query = select(InterventionRequest).where(InterventionRequest.status != RequestStatus.DRAFT)
    if user.role is Role.ADMIN:
        return query
    if user.role is not Role.COORDINATOR or not user.scopes:
        return query.where(false())
    conditions = []
    for scope in user.scopes:
        condition = InterventionRequest.departement_code == scope.departement_code
        if scope.force is not None:
            condition = and_(condition, or_(InterventionRequest.force == scope.force,
                                            InterventionRequest.force.is_(None)))
        conditions.append(condition)
    return query.where(or_(*conditions))


def interventions_in_scope(user: User) -> Select:
    """Sessions of the coordinator's territory and force (sessions exist once the force is decided)."""
    return select(Intervention).where(intervention_scope_condition(user))


def intervention_scope_condition(user: User) -> ColumnElement[bool]:
    if user.role is Role.ADMIN:
        return true()
    if user.role is not Role.COORDINATOR or not user.scopes:
        return false()
    conditions = []
    for scope in user.scopes:
        condition = Intervention.departement_code == scope.departement_code
        if scope.force is not None:
            condition = and_(condition, Intervention.force == scope.force)
        conditions.append(condition)
    return or_(*conditions)
