"""Relais: scheduling of the drug-prevention sessions given by police and gendarmerie."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import CONFIGS


def create_app(config_name: str | None = None, test_config: dict | None = None) -> Flask:
    """Application factory: configuration, extensions, blueprints, CLI, error handlers."""
    app = Flask(__name__, instance_relative_config=True, instance_path=str(_instance_path()))
    config_name = config_name or os.environ.get("RELAIS_ENV", "development")
    app.config.from_object(CONFIGS[config_name])
    app.config["RELAIS_ENV"] = config_name
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _ensure_secret_key(app, config_name)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("app").setLevel(logging.INFO)
    # One line per request, in production (gunicorn's error log) or when asked.
    if config_name == "production" or os.environ.get("RELAIS_REQUEST_LOG"):
        logging.getLogger("relais.requests").setLevel(logging.INFO)

    _init_extensions(app)
    from app import converters

    converters.init_app(app)  # before the routes: <int:…> is bound to its converter as each is added
    _register_blueprints(app)

    from app import cli, operations, templating

    templating.init_app(app)
    operations.init_app(app)
    cli.init_app(app)
    if app.config["MAIL_BACKEND"] == "console":
        _deliver_to_console_after_each_request(app)
    return app


def _deliver_to_console_after_each_request(app: Flask) -> None:
    """Development: e-mails (reset links, invitations) show in the terminal as soon as they are written."""
    from flask import request

    from app.cli import mail_transport
    from app.domain.clock import utcnow
    from app.domain.mail import deliver_pending
    from app.emails import LINKS_ONLY, public_host
    from app.extensions import db

    @app.teardown_request
    def deliver(_error) -> None:
        # Not after `url_context` (links built by the CLI or a job): its caller's transaction is not over.
        if _error is None and not request.environ.get(LINKS_ONLY):
            db.session.remove()
            deliver_pending(db.session, mail_transport(), app.config["MAIL_DEFAULT_SENDER"], utcnow(),
                            base_host=public_host())


def _instance_path() -> Path:
    return Path(os.environ.get("RELAIS_INSTANCE_PATH", Path(__file__).resolve().parent.parent / "instance"))


def _ensure_secret_key(app: Flask, config_name: str) -> None:
    """Production refuses a missing key; development keeps a generated one in instance/."""
    if app.config.get("SECRET_KEY"):
        return
    if config_name == "production":
        raise RuntimeError("SECRET_KEY must be set in production (environment variable SECRET_KEY).")
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from app import transactions
    from app.extensions import babel, bootstrap, cache, csrf, db, limiter, login_manager, migrate, select_locale

    db.init_app(app)
    transactions.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says why on its own
    login_manager.session_protection = "strong"
    login_manager.id_attribute = "get_login_token"  # the cookies carry the log-in's token, not the person's id
    csrf.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    cache.init_app(app)

    import app.domain.revisions  # noqa: F401  (the listeners that raise the statistics' revision)
    import app.models  # noqa: F401  (register every table)
    from app.auth import logins
    from app.models import User

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        # One statement: the log-in session of the token and its person, with a coordinator's scopes and a
        # requester's establishment (most of their pages check or show them).
        return logins.load_user(token)


@event.listens_for(Engine, "connect")
def _connection_settings(dbapi_connection, connection_record) -> None:
    """SQLite: WAL for concurrent readers, foreign keys (off by default), and a 64 MiB page cache per
    connection (the default 2 MiB would read a year of national sessions from disk on every dashboard).
    PostgreSQL: random reads priced for SSD or cached data (1.1, not the spinning-disk 4 of the default),
    or the planner scans a whole table rather than follow an index to a few hundred rows."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()
    elif module.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET random_page_cost = 1.1")
        dbapi_connection.commit()


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.agenda import bp as agenda_bp
    from app.audit import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.autopilot import bp as autopilot_bp
    from app.calendars import bp as calendars_bp
    from app.coordination import bp as coordination_bp
    from app.errors import bp as errors_bp
    from app.establishments import bp as establishments_bp
    from app.interventions import bp as interventions_bp
    from app.main import bp as main_bp
    from app.offers import bp as offers_bp
    from app.planning import bp as planning_bp
    from app.privacy import bp as privacy_bp
    from app.reports import bp as reports_bp
    from app.statistics import bp as statistics_bp
    from app.trainers import bp as trainers_bp
    from app.webhooks import bp as webhooks_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/compte")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(errors_bp)
    app.register_blueprint(trainers_bp, url_prefix="/formateurs")
    app.register_blueprint(establishments_bp, url_prefix="/etablissement")
    app.register_blueprint(interventions_bp, url_prefix="/demandes")
    app.register_blueprint(coordination_bp, url_prefix="/coordination")
    app.register_blueprint(offers_bp, url_prefix="/propositions")
    app.register_blueprint(planning_bp, url_prefix="/planification")
    app.register_blueprint(autopilot_bp, url_prefix="/pilote-automatique")
    app.register_blueprint(calendars_bp, url_prefix="/calendrier")
    app.register_blueprint(agenda_bp, url_prefix="/agenda")
    app.register_blueprint(reports_bp, url_prefix="/comptes-rendus")
    app.register_blueprint(statistics_bp, url_prefix="/statistiques")
    from app import api

    api.init_app(app)  # /api/v1 (issue #22)
    app.register_blueprint(audit_bp)  # /admin/journal, /historique/… (#21)
    app.register_blueprint(privacy_bp)  # « Mes données », retention, legal pages (#21)
    app.register_blueprint(webhooks_bp, url_prefix="/webhooks")  # signed webhooks (#22)
