"""The one availability answer: patterns, exceptions, holidays, sessions, travel, DST, overseas; and its loader."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event

from app.domain.availability import (
    BusyPeriod,
    Period,
    TrainerAvailability,
    WeeklySlot,
    is_free,
    load_availability,
    travel_minutes_for,
)
from app.domain.timezones import to_utc
from app.extensions import db
from app.models import AvailabilityException, AvailabilityPattern, ExceptionKind, InterventionStatus
from tests.factories import make_assigned_session, make_trainer

PARIS = "Europe/Paris"
REUNION = "Indian/Reunion"
TUESDAY_MORNING = WeeklySlot(1, time(8, 30), time(12, 0))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return to_utc(day, time(hour, minute), PARIS)


def check(availability, start, end, *, tz=PARIS, departement="69", **options):
    return is_free(availability, start, end, timezone_name=tz, departement_code=departement, **options)


# -- weekly pattern -----------------------------------------------------------------------------------


def test_inside_the_weekly_pattern_is_free_and_outside_is_refused_with_a_reason():
    trainer = TrainerAvailability(1, slots=(TUESDAY_MORNING,))
    tuesday, wednesday = date(2026, 12, 8), date(2026, 12, 9)
    answer = check(trainer, paris(tuesday, 9), paris(tuesday, 10))
    assert answer.free and answer.reasons == () and bool(answer)
    refused = check(trainer, paris(wednesday, 9), paris(wednesday, 10))
    assert not refused
    assert "En dehors des disponibilités du formateur" in refused.reason and "9 décembre 2026" in refused.reason
    # Running past the end of the slot is refused too.
    assert not check(trainer, paris(tuesday, 11, 30), paris(tuesday, 12, 30))


def test_a_trainer_without_pattern_is_available_on_weekdays_during_school_hours():
    trainer = TrainerAvailability(1)
    monday, saturday = date(2026, 12, 7), date(2026, 12, 12)
    assert check(trainer, paris(monday, 8), paris(monday, 9))
    assert check(trainer, paris(monday, 16, 30), paris(monday, 17, 30))
    assert not check(trainer, paris(monday, 17), paris(monday, 18))
    refused = check(trainer, paris(saturday, 10), paris(saturday, 11))
    assert "par défaut" in refused.reason


def test_a_pattern_applies_only_within_its_validity_dates():
    slot = WeeklySlot(1, time(8, 30), time(12, 0), valid_from=date(2026, 12, 1), valid_until=date(2026, 12, 10))
    trainer = TrainerAvailability(1, slots=(slot,))
    assert check(trainer, paris(date(2026, 12, 8), 9), paris(date(2026, 12, 8), 10))
    assert not check(trainer, paris(date(2026, 12, 15), 9), paris(date(2026, 12, 15), 10))
    assert not check(trainer, paris(date(2026, 11, 24), 9), paris(date(2026, 11, 24), 10))


def test_travel_must_fit_in_the_availability_too():
    trainer = TrainerAvailability(1, slots=(TUESDAY_MORNING,))
    tuesday = date(2026, 12, 8)
    assert check(trainer, paris(tuesday, 9), paris(tuesday, 10), travel_minutes=30)
    refused = check(trainer, paris(tuesday, 9), paris(tuesday, 10), travel_minutes=45)
    assert "trajet de 45 min" in refused.reason and "8\u00a0h\u00a015" in refused.reason


# -- exceptions ---------------------------------------------------------------------------------------


def test_an_unavailable_period_wins_over_the_pattern_and_says_why():
    leave = Period(paris(date(2026, 12, 7), 0), paris(date(2026, 12, 12), 0), "Congés")
    trainer = TrainerAvailability(1, slots=(TUESDAY_MORNING,), unavailable=(leave,))
    refused = check(trainer, paris(date(2026, 12, 8), 9), paris(date(2026, 12, 8), 10))
    assert refused.reason == ("Indisponible du lundi 7 décembre 2026 à 0\u00a0h au samedi 12 décembre 2026 à 0\u00a0h "
                              "(Congés).")
    assert check(trainer, paris(date(2026, 12, 15), 9), paris(date(2026, 12, 15), 10))
    # The travel before the session counts: a leave ending at 9:00 blocks a 9:15 session 30 min away.
    short = Period(paris(date(2026, 12, 15), 0), paris(date(2026, 12, 15), 9), "Permanence")
    trainer = TrainerAvailability(1, slots=(TUESDAY_MORNING,), unavailable=(short,))
    assert not check(trainer, paris(date(2026, 12, 15), 9, 15), paris(date(2026, 12, 15), 10), travel_minutes=30)
    assert check(trainer, paris(date(2026, 12, 15), 9, 30), paris(date(2026, 12, 15), 10), travel_minutes=30)


def test_extra_availability_opens_a_slot_and_joins_up_with_the_pattern():
    saturday, tuesday = date(2026, 12, 12), date(2026, 12, 8)
    extra = (Period(paris(saturday, 9), paris(saturday, 12)), Period(paris(tuesday, 12), paris(tuesday, 14)))
    trainer = TrainerAvailability(1, slots=(TUESDAY_MORNING,), extra=extra)
    assert check(trainer, paris(saturday, 10), paris(saturday, 11))
    assert not check(trainer, paris(saturday, 11), paris(saturday, 13))
    assert check(trainer, paris(tuesday, 11, 30), paris(tuesday, 13))  # pattern then extra, no gap


# -- public holidays ----------------------------------------------------------------------------------


def test_the_pattern_does_not_apply_on_a_public_holiday_but_an_explicit_extra_does():
    christmas = date(2026, 12, 25)  # a Friday
    trainer = TrainerAvailability(1)
    refused = check(trainer, paris(christmas, 10), paris(christmas, 11))
    assert "Jour férié : Jour de Noël (25 décembre 2026)" in refused.reason
    volunteer = TrainerAvailability(1, extra=(Period(paris(christmas, 9), paris(christmas, 12)),))
    assert check(volunteer, paris(christmas, 10), paris(christmas, 11))


def test_holidays_are_those_of_the_place_departement():
    day = date(2027, 12, 20)  # a Monday; abolition of slavery is a holiday in La Réunion only
    trainer = TrainerAvailability(1)
    assert check(trainer, paris(day, 10), paris(day, 11), departement="69")
    reunion = to_utc(day, time(10), REUNION)
    refused = check(trainer, reunion, reunion + timedelta(hours=1), tz=REUNION, departement="974")
    assert "Abolition de l'esclavage" in refused.reason


# -- sessions already assigned --------------------------------------------------------------------------


def _busy(start, minutes=60, *, accepted=True, place=None, travel=30, intervention_id=10):
    return BusyPeriod(start, start + timedelta(minutes=minutes), intervention_id, accepted, place, travel)


def test_an_accepted_session_blocks_with_travel_buffers_on_both_sides():
    tuesday = date(2026, 12, 8)
    trainer = TrainerAvailability(1, busy=(_busy(paris(tuesday, 10)),))
    refused = check(trainer, paris(tuesday, 11, 15), paris(tuesday, 12), travel_minutes=30)
    assert refused.reason.startswith("Déjà affecté(e) à une intervention le 8 décembre 2026 de 10\u00a0h à 11\u00a0h")
    # One hour later, both journeys fit: back from the first place, then off to the next one.
    assert check(trainer, paris(tuesday, 12), paris(tuesday, 13), travel_minutes=30)
    # Exactly overlapping is refused even without travel.
    assert not check(trainer, paris(tuesday, 10, 30), paris(tuesday, 11, 30))


def test_back_to_back_sessions_at_the_same_place_need_no_travel():
    tuesday = date(2026, 12, 8)
    trainer = TrainerAvailability(1, busy=(_busy(paris(tuesday, 10), place=7),))
    assert check(trainer, paris(tuesday, 11), paris(tuesday, 12), travel_minutes=40, place_key=7)
    assert not check(trainer, paris(tuesday, 11), paris(tuesday, 12), travel_minutes=40, place_key=8)
    assert not check(trainer, paris(tuesday, 10, 30), paris(tuesday, 11, 30), place_key=7)


def test_a_pending_offer_counts_as_busy_and_an_intervention_can_be_ignored():
    tuesday = date(2026, 12, 8)
    trainer = TrainerAvailability(1, busy=(_busy(paris(tuesday, 10), accepted=False, intervention_id=42),))
    refused = check(trainer, paris(tuesday, 10), paris(tuesday, 11))
    assert refused.reason.startswith("Une proposition est en attente")
    # Re-checking the very intervention the offer is about must not conflict with itself.
    assert check(trainer, paris(tuesday, 10), paris(tuesday, 11), ignore_intervention_ids=[42])


def test_every_reason_is_listed():
    tuesday = date(2026, 12, 8)
    trainer = TrainerAvailability(1, slots=(WeeklySlot(0, time(8), time(12)),),
                                  unavailable=(Period(paris(tuesday, 0), paris(tuesday, 23), None),),
                                  busy=(_busy(paris(tuesday, 9)),))
    answer = check(trainer, paris(tuesday, 9), paris(tuesday, 10))
    assert len(answer.reasons) == 3
    assert answer.reasons[0] == "Indisponible du mardi 8 décembre 2026 à 0\u00a0h au mardi 8 décembre 2026 à 23\u00a0h."


def test_travel_minutes_from_distance():
    assert travel_minutes_for(None) == 30
    assert travel_minutes_for(10) == 30
    assert travel_minutes_for(90) == 90


def test_naive_or_reversed_times_are_programming_errors():
    with pytest.raises(ValueError):
        check(TrainerAvailability(1), datetime(2026, 12, 8, 9), datetime(2026, 12, 8, 10))
    with pytest.raises(ValueError):
        check(TrainerAvailability(1), utc(2026, 12, 8, 10), utc(2026, 12, 8, 9))


# -- daylight saving and overseas ---------------------------------------------------------------------


def test_a_weekly_pattern_keeps_its_wall_clock_across_the_spring_change():
    tuesday_morning = TrainerAvailability(1, slots=(WeeklySlot(1, time(8), time(12)),))
    # Before the change (CET, UTC+1): 8:00 local is 7:00 UTC.
    assert check(tuesday_morning, utc(2027, 3, 23, 7), utc(2027, 3, 23, 11))
    assert not check(tuesday_morning, utc(2027, 3, 23, 6), utc(2027, 3, 23, 7))
    # Sunday 28 March 2027 the clocks go forward; on Tuesday 30 (CEST, UTC+2) 8:00 local is 6:00 UTC.
    # (Monday 29 is Easter Monday, a public holiday.)
    assert check(tuesday_morning, utc(2027, 3, 30, 6), utc(2027, 3, 30, 10))
    refused = check(tuesday_morning, utc(2027, 3, 30, 7), utc(2027, 3, 30, 11))
    assert "de 9\u00a0h à 13\u00a0h" in refused.reason


def test_a_pattern_on_the_night_of_the_change_lasts_its_real_duration():
    # Sunday 1:00 to 5:00 local on 28 March 2027 is only three real hours (2:00 to 3:00 does not exist).
    night = TrainerAvailability(1, slots=(WeeklySlot(6, time(1), time(5)),))
    assert check(night, utc(2027, 3, 28, 0), utc(2027, 3, 28, 3))
    assert not check(night, utc(2027, 3, 28, 0), utc(2027, 3, 28, 3, 30))


def test_a_weekly_pattern_keeps_its_wall_clock_across_the_autumn_change():
    tuesday_morning = TrainerAvailability(1, slots=(WeeklySlot(1, time(8), time(12)),))
    # Tuesday 26 October 2027 (CEST): 8:00 local is 6:00 UTC; Tuesday 2 November (CET, after the
    # change of Sunday 31 October) it is 7:00 UTC.
    assert check(tuesday_morning, utc(2027, 10, 26, 6), utc(2027, 10, 26, 10))
    assert not check(tuesday_morning, utc(2027, 11, 2, 6), utc(2027, 11, 2, 7))
    assert check(tuesday_morning, utc(2027, 11, 2, 7), utc(2027, 11, 2, 11))
    assert not check(tuesday_morning, utc(2027, 10, 26, 10), utc(2027, 10, 26, 11))


def test_overseas_times_are_local_to_the_place():
    trainer = TrainerAvailability(1, slots=(WeeklySlot(1, time(8), time(12)),))
    # La Réunion is UTC+4 all year: 8:00–9:00 on Tuesday 8 December is 4:00–5:00 UTC.
    assert check(trainer, utc(2026, 12, 8, 4), utc(2026, 12, 8, 5), tz=REUNION, departement="974")
    refused = check(trainer, utc(2026, 12, 8, 8), utc(2026, 12, 8, 9), tz=REUNION, departement="974")
    assert "de 12\u00a0h à 13\u00a0h" in refused.reason
    # The same instant in Paris is 9:00 local, inside the pattern.
    assert check(trainer, utc(2026, 12, 8, 8), utc(2026, 12, 8, 9), tz=PARIS)


# -- the loader ---------------------------------------------------------------------------------------


def test_loader_fetches_many_trainers_in_three_queries_and_keeps_only_what_matters(app):
    first, second, third = make_trainer(), make_trainer(), make_trainer("974")
    first.patterns = [AvailabilityPattern(weekday=1, start_time=time(8, 30), end_time=time(12))]
    tuesday = date(2026, 12, 8)
    first.exceptions = [
        AvailabilityException(kind=ExceptionKind.UNAVAILABLE, starts_at=paris(tuesday, 0),
                              ends_at=paris(tuesday, 9), reason="Permanence"),
        AvailabilityException(kind=ExceptionKind.EXTRA, starts_at=paris(tuesday, 14), ends_at=paris(tuesday, 16)),
        AvailabilityException(kind=ExceptionKind.UNAVAILABLE, starts_at=paris(date(2027, 6, 1), 0),
                              ends_at=paris(date(2027, 6, 5), 0), reason="Loin"),
    ]
    accepted = make_assigned_session(first, paris(tuesday, 10), distance_km=90)
    make_assigned_session(second, paris(tuesday, 10), status="offered")
    make_assigned_session(second, paris(tuesday, 14), status="declined")
    cancelled = make_assigned_session(second, paris(tuesday, 16))
    cancelled.status = InterventionStatus.CANCELLED
    db.session.commit()
    ids = [first.id, second.id, third.id, first.id]
    accepted_id = accepted.id

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        loaded = load_availability(db.session, ids, paris(tuesday, 0), paris(tuesday, 23))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 3

    mine = loaded[first.id]
    assert mine.slots == (WeeklySlot(1, time(8, 30), time(12)),)
    assert [p.reason for p in mine.unavailable] == ["Permanence"]  # the June leave is outside the window
    assert len(mine.extra) == 1
    assert [(b.intervention_id, b.accepted, b.travel_minutes) for b in mine.busy] == [(accepted_id, True, 90)]
    assert [b.accepted for b in loaded[second.id].busy] == [False]  # declined and cancelled do not count
    assert loaded[third.id].uses_default_pattern and loaded[third.id].busy == ()

    # And the answer from loaded data: the leave, the session and its 90-minute journeys.
    assert not check(mine, paris(tuesday, 8, 30), paris(tuesday, 9, 30))
    assert not check(mine, paris(tuesday, 11, 45), paris(tuesday, 12))
    assert check(mine, paris(tuesday, 14, 30), paris(tuesday, 15, 30))  # extra availability, after the buffer
    assert load_availability(db.session, [], paris(tuesday, 0), paris(tuesday, 23)) == {}


@pytest.mark.rolled_back
def test_the_quick_answer_without_reasons_agrees_with_the_explained_one(app):
    # Planning asks without reasons; it must say yes and no exactly where the explained answer does.
    monday = date(2026, 12, 7)
    trainer = TrainerAvailability(
        1, slots=(TUESDAY_MORNING, WeeklySlot(0, time(13, 30), time(17, 0))),
        unavailable=(Period(paris(monday, 15), paris(monday, 16), "Permanence"),),
        extra=(Period(paris(monday + timedelta(days=5), 9), paris(monday + timedelta(days=5), 12)),),
        busy=(BusyPeriod(paris(monday + timedelta(days=1), 9), paris(monday + timedelta(days=1), 10), 7, True,
                         place_key=3),))
    answers = []
    for day in range(7):
        for half_hour in range(16, 38):
            start = paris(monday + timedelta(days=day), half_hour // 2, 30 * (half_hour % 2))
            for place in (3, 4):
                explained = check(trainer, start, start + timedelta(hours=1), travel_minutes=20, place_key=place)
                quick = check(trainer, start, start + timedelta(hours=1), travel_minutes=20, place_key=place,
                              explain=False)
                assert bool(quick) == bool(explained) and quick.reasons == ()
                answers.append(bool(explained))
    assert any(answers) and not all(answers), "the cases cover both answers"
