"""`flask db upgrade` builds the schema from empty, and the models match it (no drift)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from tests.helpers import empty_database


def test_upgrade_from_empty_has_no_drift_and_downgrades(database_url, tmp_path):
    with empty_database(database_url, tmp_path, "migrations") as url:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, db.metadata)
                assert differences == [], f"models and migrations differ: {differences}"
                tables = set(inspect(connection).get_table_names())
            assert {"user_account", "establishment", "trainer", "intervention", "outgoing_message"} <= tables
            downgrade(revision="base")
            with db.engine.connect() as connection:
                assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()


def test_every_migration_imports_the_custom_column_type():
    from pathlib import Path

    for script in Path("migrations/versions").glob("*.py"):
        source = script.read_text()
        if "app.models.base." in source:
            assert "import app.models.base" in source, f"{script.name} uses app.models.base without importing it"


@pytest.mark.parametrize("command", [["db", "current"]])
def test_flask_db_commands_run(runner, command):
    result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
