"""The benchmark database: an app bound to any URL, filled with the national demo data set.

By default each run works on a fresh SQLite file in a temporary folder. Building the national demo
takes about two minutes (it goes through the real life-cycle functions, request by request), so the
freshly built file is also kept in `instance/bench-cache/`, under a fingerprint of everything the
data set depends on (models, domain code, reference files, seed, date, SQLAlchemy); later runs start
from a copy of it. `--no-cache` always builds. `--database-url` builds into that (empty) database
instead, e.g. a throwaway PostgreSQL, and never uses the cache.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import func, inspect, select

from app import create_app
from app.domain import caldav_push
from app.domain.demo import build_demo_data
from app.domain.reference_data import sync_reference_data
from app.extensions import db
from app.jobs import write_messages
from app.models import Establishment, Trainer

PROJECT_DIR = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT_DIR / "instance" / "bench-cache"
# What the demo data set is made from (and how the benchmark builds it): a change to any of these files builds it
# again.
DATA_SOURCES = ("app/models", "app/domain", "app/data", "bench/database.py")


@dataclass(frozen=True)
class Database:
    url: str
    seconds: float  # building or copying
    origin: str  # "built", "copied from the cache", …
    trainers: int
    establishments: int


def bench_app(database_url: str) -> Flask:
    """The app in its testing configuration (fixed secret key, no mail sent, no rate limits) on `database_url`."""
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})


def temporary_workdir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="relais-bench-")


def demo_fingerprint(seed: int, today: date) -> str:
    digest = hashlib.sha256(f"{seed}|{today.isoformat()}|{version('SQLAlchemy')}".encode())
    for source in DATA_SOURCES:
        root = PROJECT_DIR / source
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".csv", ".json"}:
                digest.update(str(path.relative_to(PROJECT_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (the WAL included), written under a temporary name."""
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    origin, copy = sqlite3.connect(source), sqlite3.connect(partial)
    try:
        origin.backup(copy)
    finally:
        origin.close()
        copy.close()
    partial.replace(target)


def _counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Trainer)) or 0,
            db.session.scalar(select(func.count()).select_from(Establishment)) or 0)


def build_national_demo(seed: int, today: date) -> None:
    """Schema, reference tables and the national demo set, in an empty database (inside an app context)."""
    if inspect(db.engine).get_table_names():
        raise SystemExit(f"{db.engine.url.render_as_string(hide_password=True)} already has tables: "
                         "the benchmark fills an empty database of its own.")
    # create_all, not migrations: the benchmark measures the models as they are in this tree.
    db.create_all()
    sync_reference_data(db.session)
    # Without its school year: each benchmark tops up what it measures (the month to plan, the feed, then the
    # year), in that order, as the figures of earlier runs were taken.
    build_demo_data(db.session, seed=seed, scale="national", today=today,
                    password_hash_method=current_app.config.get("PASSWORD_HASH_METHOD"), year_sessions=0,
                    write_messages=write_messages, caldav_keys=caldav_push.keys_from(current_app.config))
    db.session.commit()


def prepare_database(database_url: str | None, workdir: Path, *, seed: int, today: date, use_cache: bool
                     ) -> tuple[Flask, Database]:
    """An app on a database holding the national demo set, built or copied from the cache."""
    started = time.perf_counter()
    if database_url:
        app = bench_app(database_url)
        with app.app_context():
            build_national_demo(seed, today)
            trainers, establishments = _counts()
        return app, Database(database_url, time.perf_counter() - started, "built", trainers, establishments)

    target = workdir / "bench.sqlite3"
    cached = CACHE_DIR / f"national-{demo_fingerprint(seed, today)}.sqlite3"
    if use_cache and cached.exists():
        _copy_sqlite(cached, target)
        origin = f"copied from {cached.relative_to(PROJECT_DIR)}"
    else:
        with bench_app(f"sqlite:///{target}").app_context():
            build_national_demo(seed, today)
            db.engine.dispose()
        origin = "built"
        if use_cache:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            for stale in CACHE_DIR.glob("national-*.sqlite3"):
                stale.unlink()  # one data set kept at a time: the others were built from older code or seeds
            _copy_sqlite(target, cached)
            origin = f"built, kept in {cached.relative_to(PROJECT_DIR)}"
    app = bench_app(f"sqlite:///{target}")
    with app.app_context():
        trainers, establishments = _counts()
    return app, Database(f"sqlite:///{target}", time.perf_counter() - started, origin, trainers, establishments)
