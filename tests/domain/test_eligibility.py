"""Each hard rule excludes a candidate for exactly its own reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from app.domain.availability import BusyPeriod, Period, TrainerAvailability
from app.domain.eligibility import FILLED_BY_OTHERS, asked_answer, static_exclusions, timed_exclusions
from app.domain.planning import TrainerLimits
from app.domain.vocabulary import SESSION_FILLED
from tests.factories import SESSION_NEED as NEED
from tests.factories import TRAINER_PROFILE as TRAINER

# Tuesday 12 January 2027, 10:00–11:00 in Lyon (09:00–10:00 UTC).
START = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
END = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)

FREE = TrainerAvailability(trainer_id=3)
WORKLOAD = TrainerLimits(3, weekly_limit=3, monthly_limit=8)


def test_a_qualified_free_trainer_is_a_candidate():
    assert static_exclusions(NEED, TRAINER) == []
    assert timed_exclusions(NEED, TRAINER, START, END, WORKLOAD, FREE) == []


@pytest.mark.parametrize(("need", "trainer", "rule"), [
    (NEED, replace(TRAINER, active=False), "actif"),
    (NEED, replace(TRAINER, force="gendarmerie"), "force"),
    (replace(NEED, force=None), TRAINER, "force"),
    (NEED, replace(TRAINER, departement_codes=frozenset({"01"})), "departement"),
    (NEED, replace(TRAINER, topic_codes=frozenset({"cannabis"})), "themes"),
    (NEED, replace(TRAINER, audience_codes=frozenset({"3e"})), "public"),
    (replace(NEED, trainers_needed=2), replace(TRAINER, accepts_pair_work=False), "binome"),
    (NEED, replace(TRAINER, latitude=45.19, longitude=5.72, max_distance_km=60), "distance"),  # Grenoble
    (replace(NEED, asked=frozenset({(3, "declined")})), TRAINER, "deja-decline"),
    (replace(NEED, asked=frozenset({(3, "accepted")})), TRAINER, "deja-sollicite"),
])
def test_each_static_rule_excludes_for_its_own_reason(need, trainer, rule, app):
    exclusions = static_exclusions(need, trainer)
    assert [e.rule for e in exclusions] == [rule]
    assert exclusions[0].reason
    # Unworded (the planner's question), the same rules fail, with the same codes; only the words are left out.
    with force_locale("en"):
        worded, unworded = static_exclusions(need, trainer), static_exclusions(need, trainer, explain=False)
    assert [(e.rule, e.codes) for e in unworded] == [(e.rule, e.codes) for e in worded]
    if rule not in ("deja-decline", "deja-sollicite"):  # those two are worded later (vocabulary.stored_text)
        assert unworded[0].reason != worded[0].reason  # not translated: the French text as written


def test_lapsed_certification_excludes():
    lapsed = replace(TRAINER, certified_since=date(2024, 12, 1))
    exclusions = timed_exclusions(NEED, lapsed, START, END, WORKLOAD, FREE)
    assert [e.rule for e in exclusions] == ["habilitation"]
    assert "1er décembre 2026" in exclusions[0].reason


def test_weekly_and_monthly_limits_exclude():
    full_week = TrainerLimits(3, weekly_limit=3, monthly_limit=8, week_used={(2027, 2): 3})
    assert [e.rule for e in timed_exclusions(NEED, TRAINER, START, END, full_week, FREE)] == ["limite-hebdomadaire"]
    full_month = TrainerLimits(3, weekly_limit=3, monthly_limit=8, month_used={(2027, 1): 8})
    assert [e.rule for e in timed_exclusions(NEED, TRAINER, START, END, full_month, FREE)] == ["limite-mensuelle"]


def test_unavailability_and_other_sessions_exclude():
    on_leave = TrainerAvailability(3, unavailable=(Period(datetime(2027, 1, 11, tzinfo=UTC),
                                                          datetime(2027, 1, 15, tzinfo=UTC), "Congés"),))
    assert [e.rule for e in timed_exclusions(NEED, TRAINER, START, END, WORKLOAD, on_leave)] == ["disponibilite"]
    busy_elsewhere = TrainerAvailability(3, busy=(BusyPeriod(START, END, intervention_id=99, accepted=True,
                                                             place_key=8),))
    assert [e.rule for e in timed_exclusions(NEED, TRAINER, START, END, WORKLOAD, busy_elsewhere)] == [
        "disponibilite"]
    # The session being re-planned does not block itself.
    itself = TrainerAvailability(3, busy=(BusyPeriod(START, END, intervention_id=1, accepted=False, place_key=7),))
    assert timed_exclusions(NEED, TRAINER, START, END, WORKLOAD, itself) == []


@pytest.mark.parametrize(("answers", "rule", "reason"), [
    ({"accepted"}, "deja-sollicite", "A accepté cette intervention."),
    ({"offered"}, "deja-sollicite", "Proposition en cours pour cette intervention."),
    ({"declined"}, "deja-decline", "A décliné cette intervention."),
    ({"expired"}, "deja-decline", "A laissé expirer la proposition pour cette intervention."),
    ({"withdrawn"}, "deja-decline", "A été retiré(e) de cette intervention."),
    ({"withdrawn", "accepted"}, "deja-sollicite", "A accepté cette intervention."),  # asked again, and on it
])
def test_a_trainer_already_asked_is_set_aside_for_what_they_actually_answered(answers, rule, reason):
    need = replace(NEED, asked=frozenset((3, status) for status in answers) | {(4, "declined")})
    [exclusion] = static_exclusions(need, TRAINER)
    assert (exclusion.rule, exclusion.reason, exclusion.codes) == (rule, reason, (exclusion.codes[0],))


def test_an_offer_closed_because_the_session_filled_says_nothing_of_its_trainer():
    assert asked_answer("withdrawn", SESSION_FILLED) == FILLED_BY_OTHERS
    assert asked_answer("withdrawn", "Formateur indisponible.") == "withdrawn"
    assert asked_answer("declined", SESSION_FILLED) == "declined"
    need = replace(NEED, asked=frozenset({(3, FILLED_BY_OTHERS)}))
    assert static_exclusions(need, TRAINER) == []
    # Filled, then asked again and declined: set aside for the decline.
    need = replace(NEED, asked=frozenset({(3, FILLED_BY_OTHERS), (3, "declined")}))
    assert [e.rule for e in static_exclusions(need, TRAINER)] == ["deja-decline"]


def test_missing_topics_and_audiences_are_given_as_codes_for_the_page_to_name():
    trainer = replace(TRAINER, topic_codes=frozenset({"cannabis"}), audience_codes=frozenset({"3e"}))
    need = replace(NEED, topic_codes=frozenset({"cannabis", "protoxyde-azote", "alcool"}))
    found = {e.rule: e.codes for e in static_exclusions(need, trainer)}
    assert found == {"themes": ("alcool", "protoxyde-azote"), "public": ("4e",)}
