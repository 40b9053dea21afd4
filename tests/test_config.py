"""Configuration: production needs a real secret; development makes one and keeps it."""

from __future__ import annotations

import pytest

from app import create_app


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("RELAIS_INSTANCE_PATH", str(tmp_path))
    from config import ProductionConfig

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_development_generates_a_private_key_once(monkeypatch, tmp_path):
    monkeypatch.setenv("RELAIS_INSTANCE_PATH", str(tmp_path))
    from config import DevelopmentConfig

    monkeypatch.setattr(DevelopmentConfig, "SECRET_KEY", None)
    first = create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    second = create_app("development", {"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert first == second == key_file.read_text().strip() and len(first) >= 64
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    """The embedded default (a SQLite file) gets WAL and foreign keys, whichever database the suite uses."""
    from sqlalchemy import text

    from app.extensions import db

    sqlite_app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'pragmas.sqlite3'}"})
    with sqlite_app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        db.engine.dispose()


def test_development_console_mail_does_not_end_a_command_s_transaction(monkeypatch, tmp_path):
    """Development prints e-mails after each request; links built by a command (`tick`, `demo-data`) open
    a request context of their own, and closing it must leave the command's transaction alone."""
    from flask import url_for
    from sqlalchemy import func, select

    from app.emails import url_context
    from app.extensions import db
    from app.models import Role, User

    monkeypatch.setenv("RELAIS_INSTANCE_PATH", str(tmp_path))
    development = create_app("development", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
                                             "MAIL_BACKEND": "console"})
    with development.app_context():
        db.create_all()
        user = User(email="quelqu.un@exemple.fr", full_name="Quelqu'un", role=Role.ADMIN)
        db.session.add(user)
        with url_context():
            link = url_for("main.home", _external=True)
        assert link.endswith("/accueil") and user in db.session, "the pending work is still there"
        db.session.commit()
        assert db.session.scalar(select(func.count(User.id))) == 1
