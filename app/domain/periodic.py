"""Periodic jobs run by `flask --app wsgi tick` (cron-friendly, idempotent).

Each job is a plain function `job(session, now) -> int` returning how many things it did. A job
must be safe to run every minute and twice at once: it writes through conditional updates or
dedup keys, never read-then-write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

Job = Callable[[Session, datetime], int]
JOBS: dict[str, Job] = {}


def periodic_job(name: str) -> Callable[[Job], Job]:
    """Registers a job under a name shown in the command's report."""

    def register(job: Job) -> Job:
        JOBS[name] = job
        return job

    return register


def run_periodic_jobs(session: Session, now: datetime) -> dict[str, int]:
    """Runs every registered job, each in its own transaction."""
    report = {}
    for name, job in JOBS.items():
        report[name] = job(session, now)
        session.commit()
    return report
