"""Query filters that restrict a listing to what the current user may see."""

from __future__ import annotations

from sqlalchemy import Select, and_, false, or_, select

from app.models import Role, Trainer, User
from app.models.trainers import trainer_departement


def trainers_in_scope(user: User) -> Select:
    """Trainers serving a département of the coordinator's scope, in a force of that scope."""
    query = select(Trainer)
    if user.role is Role.ADMIN:
        return query
    if user.role is not Role.COORDINATOR or not user.scopes:
        return query.where(false())
    conditions = []
    for scope in user.scopes:
        condition = trainer_departement.c.departement_code == scope.departement_code
        if scope.force is not None:
            condition = and_(condition, Trainer.force == scope.force)
        conditions.append(condition)
    return query.join(trainer_departement, trainer_departement.c.trainer_id == Trainer.id).where(or_(*conditions))
