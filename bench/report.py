"""The benchmark's output: the machine, then one Markdown table (measure | value | target | ok?)."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class Row:
    measure: str
    value: str
    target: str = "—"
    ok: bool | None = None  # None: no target, nothing to judge


@dataclass
class Report:
    context: list[str] = field(default_factory=list)  # bullet lines above the table
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # lines below the table
    sections: list[str] = field(default_factory=list)  # Markdown blocks after the notes (tables of their own)

    @property
    def failed(self) -> list[Row]:
        return [row for row in self.rows if row.ok is False]

    def markdown(self) -> str:
        lines = ["# Relais benchmark", ""]
        lines += [f"- {line}" for line in self.context]
        lines += ["", "| measure | value | target | ok? |", "| --- | --- | --- | --- |"]
        for row in self.rows:
            verdict = "—" if row.ok is None else ("yes" if row.ok else "**no**")
            lines.append(f"| {row.measure} | {row.value} | {row.target} | {verdict} |")
        for note in self.notes:  # one paragraph each
            lines += ["", note]
        for section in self.sections:
            lines += ["", section.rstrip("\n")]
        return "\n".join(lines) + "\n"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def database_description(engine: Engine, where: str | None = None) -> str:
    """Dialect and server version, then `where` it is (default: the URL, password hidden)."""
    dialect = engine.dialect
    if dialect.name == "sqlite":
        import sqlite3

        server = sqlite3.sqlite_version
    else:
        with engine.connect() as connection:
            server = ".".join(map(str, connection.dialect.server_version_info or ()))
    return f"{dialect.name} {server} ({where or engine.url.render_as_string(hide_password=True)})"


REFERENCE_LOOP = 3_000_000


def python_reference_ms(runs: int = 5) -> float:
    """Milliseconds a fixed loop of pure Python takes here (median of `runs`), to compare the machines of two
    runs. A rough measure: on 2 December it took the same time on a machine that ran the app 3 to 4 times slower."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        total = 0
        for number in range(REFERENCE_LOOP):
            total += number
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def machine_lines(engine: Engine, database_where: str | None = None) -> list[str]:
    return [
        f"Machine: {_cpu_model()}, {os.cpu_count()} cores, {_memory_gib()} RAM, {platform.system()} "
        f"{platform.release()}; speed: {REFERENCE_LOOP:,} additions in a Python loop take "
        f"{python_reference_ms():.0f} ms (median of 5, compare between runs)",
        f"Python {sys.version.split()[0]}; SQLAlchemy {_package('SQLAlchemy')}, OR-Tools {_package('ortools')}, "
        f"SciPy {_package('scipy')}",
        f"Database: {database_description(engine, database_where)}",
    ]
