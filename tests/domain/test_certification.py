"""Certification: a refresher every two years, a warning 60 days ahead, the same rule in SQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.domain.certification import (
    CertificationState,
    certification_status,
    certification_valid_until,
    is_certified_on,
)
from app.domain.roster import certification_condition
from app.extensions import db
from app.models import Trainer
from tests.factories import make_trainer

TODAY = date(2026, 11, 30)


def test_valid_for_two_years_then_lapsed():
    since = date(2024, 11, 30)
    valid_until = certification_valid_until(since)
    assert valid_until == since + timedelta(days=730)
    assert is_certified_on(since, valid_until)
    assert not is_certified_on(since, valid_until + timedelta(days=1))
    assert certification_status(since, valid_until).state is CertificationState.EXPIRING
    lapsed = certification_status(since, valid_until + timedelta(days=1))
    assert lapsed.state is CertificationState.LAPSED and not lapsed.is_valid


def test_warning_window_opens_sixty_days_ahead():
    since = date(2025, 1, 1)
    valid_until = certification_valid_until(since)
    assert certification_status(since, valid_until - timedelta(days=61)).state is CertificationState.VALID
    assert certification_status(since, valid_until - timedelta(days=60)).state is CertificationState.EXPIRING
    assert certification_status(since, valid_until - timedelta(days=60)).is_valid


@pytest.mark.rolled_back
def test_last_refresher_restarts_the_period(app):
    trainer = make_trainer(certified_on=TODAY - timedelta(days=2000), last_refresher_on=TODAY - timedelta(days=10))
    assert trainer.certified_since == TODAY - timedelta(days=10)
    assert certification_status(trainer.certified_since, TODAY).state is CertificationState.VALID


def test_the_sql_condition_agrees_with_the_python_rule_at_every_boundary(app):
    ages = [0, 600, 669, 670, 671, 729, 730, 731, 800]
    trainers = {age: make_trainer(certified_on=TODAY - timedelta(days=age)) for age in ages}
    db.session.commit()
    for state in CertificationState:
        selected = set(db.session.scalars(select(Trainer.id).where(certification_condition(state, TODAY))))
        expected = {t.id for age, t in trainers.items()
                    if certification_status(t.certified_since, TODAY).state is state}
        assert selected == expected, state
    assert certification_status(TODAY - timedelta(days=730), TODAY).state is CertificationState.EXPIRING
    assert certification_status(TODAY - timedelta(days=731), TODAY).state is CertificationState.LAPSED
