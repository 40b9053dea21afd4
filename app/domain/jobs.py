"""Imports every module that registers periodic jobs, so that `tick` sees them all."""

from app.domain import (
    certification_warnings,  # noqa: F401  (certification warnings, 60 days ahead)
    offers,  # noqa: F401  (expired offers pass to the next candidate)
    reminders,  # noqa: F401  (before sessions, overdue reports, feedback, weekly digest)
)
