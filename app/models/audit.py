"""The audit trail (#21): who changed what, when, from where, before and after; and the reads of personal data in
bulk. Written only by app.domain.audit (never through a page); each entry's hash is chained to the previous one's.

A trigger refuses any UPDATE of an entry (the migration creates it, and so does create_all here);
DELETE is left to the purge of entries past their retention period, which records an `AuditCheckpoint`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, BigInteger, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import db

HASH_LENGTH = 64  # SHA-256, hexadecimal


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_object", "object_type", "object_id", "id"),
        Index("ix_audit_entry_author", "author_id", "id"),
        Index("ix_audit_entry_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    transaction_key: Mapped[str] = mapped_column(String(32))  # the entries of one transaction share it
    author_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the trail outlives accounts
    author_name: Mapped[str] = mapped_column(String(200), default="")  # "" : someone not logged in
    address: Mapped[str | None] = mapped_column(String(64))
    token_id: Mapped[int | None] = mapped_column(Integer)  # a personal access token of the API
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete, read
    object_type: Mapped[str] = mapped_column(String(64))  # a table's name, or what was read
    object_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON: {column: [before, after]} …
    previous_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH))


class AuditCheckpoint(db.Model):
    """Where the kept chain starts after a purge: the hash the first kept entry follows."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    purged_through_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    anchor_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    purged_count: Mapped[int] = mapped_column(Integer)


REFUSE_UPDATE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry rows cannot be changed';
END;
$$ LANGUAGE plpgsql
"""
REFUSE_UPDATE_TRIGGER = ("CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
                         "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_update()")

event.listen(AuditEntry.__table__, "after_create", DDL(REFUSE_UPDATE_FUNCTION).execute_if(dialect="postgresql"))
event.listen(AuditEntry.__table__, "after_create", DDL(REFUSE_UPDATE_TRIGGER).execute_if(dialect="postgresql"))
# SQLite (the embedded default) refuses it too.
SQLITE_REFUSE_UPDATE_TRIGGER = ("CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
                                "BEGIN SELECT RAISE(ABORT, 'audit_entry rows cannot be changed'); END")
event.listen(AuditEntry.__table__, "after_create", DDL(SQLITE_REFUSE_UPDATE_TRIGGER).execute_if(dialect="sqlite"))
