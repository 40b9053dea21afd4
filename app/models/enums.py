"""Closed vocabularies shared by several model families."""

from enum import StrEnum

from sqlalchemy import Enum as SAEnum


class Role(StrEnum):
    REQUESTER = "requester"
    TRAINER = "trainer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class Force(StrEnum):
    POLICE = "police"
    GENDARMERIE = "gendarmerie"


def enum_column(enum_cls: type[StrEnum], name: str) -> SAEnum:
    """A portable enum column: a VARCHAR with a CHECK constraint, storing the values."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
