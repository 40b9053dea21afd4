"""Every rule of the request form, with its French message; holidays for zones A and C and overseas."""

from __future__ import annotations

from datetime import date, time

import pytest
from flask_babel import force_locale

from app.domain.request_rules import (
    AudienceInfo,
    Place,
    RequestInput,
    TopicRule,
    WindowInput,
    check_request,
)

# Through db.session only, nothing committed: each test's rows go with its rolled-back transaction.
pytestmark = pytest.mark.rolled_back

TODAY = date(2026, 11, 30)
LYON_SCHOOL = Place("69", "A", True)  # zone A
PARIS_SCHOOL = Place("75", "C", True)  # zone C
REUNION_SCHOOL = Place("974", None, True)  # overseas: no offline calendar
LYON_COMPANY = Place("69", "A", False)
AUDIENCES = [AudienceInfo("6e", "Élèves de 6e", "pupils"), AudienceInfo("4e", "Élèves de 4e", "pupils"),
             AudienceInfo("salaries", "Salariés", "adults")]
TOPICS = [TopicRule("cannabis", "Cannabis", frozenset()),
          TopicRule("loi-sanctions", "La loi et les sanctions", frozenset({"6e"}))]


def window(start=date(2027, 1, 11), end=date(2027, 1, 15), start_time=time(8, 0), end_time=time(12, 0)):
    return WindowInput(start, end, start_time, end_time)


def data(**changes) -> RequestInput:
    values = dict(audience_codes=["4e"], topic_codes=["cannabis"], group_count=2, people_per_group=25,
                  duration_minutes=60, windows=[window()])
    values.update(changes)
    return RequestInput(**values)


def findings(place=LYON_SCHOOL, **changes):
    with force_locale("fr"):
        result = check_request(data(**changes), place, TOPICS, AUDIENCES, TODAY, 15)
        return ({name: [str(m) for m in messages] for name, messages in result.errors.items()},
                [str(w) for w in result.warnings])


@pytest.fixture(autouse=True)
def _context(app):
    yield


def test_a_normal_request_passes():
    assert findings() == ({}, [])


def test_past_dates_and_minimum_notice():
    errors, _ = findings(windows=[window(date(2026, 11, 20), date(2026, 11, 27))])
    assert errors == {"windows-0-start_date": ["Cette date est passée."]}
    errors, _ = findings(windows=[window(date(2026, 12, 7), date(2026, 12, 11))])
    assert errors["windows-0-start_date"] == [
        "Prévoyez un délai d'au moins 15 jours : première date possible le 15 décembre 2026."]


def test_end_before_start_too_far_and_too_long():
    errors, _ = findings(windows=[window(date(2027, 1, 15), date(2027, 1, 11))])
    assert errors == {"windows-0-end_date": ["La date de fin doit suivre la date de début."]}
    errors, _ = findings(windows=[window(date(2207, 1, 11), date(2207, 1, 15))])
    assert "Date trop lointaine" in errors["windows-0-start_date"][0]
    errors, _ = findings(windows=[window(date(2027, 1, 11), date(2027, 6, 11))])
    assert errors["windows-0-end_date"] == ["Une période couvre au plus 92 jours : découpez-la en plusieurs périodes."]


def test_times_outside_opening_hours_and_too_short():
    errors, _ = findings(windows=[window(start_time=time(7, 0), end_time=time(19, 30))])
    # The hours come from the rule's own bounds, written as every time is (non-breaking spaces).
    bounds = "Les interventions ont lieu entre 7\u00a0h\u00a030 et 19\u00a0h : "
    assert errors["windows-0-start_time"] == [bounds + "commencez à 7\u00a0h\u00a030 au plus tôt."]
    assert errors["windows-0-end_time"] == [bounds + "terminez à 19\u00a0h au plus tard."]
    errors, _ = findings(windows=[window(start_time=time(10, 0), end_time=time(9, 0))])
    assert errors["windows-0-end_time"] == ["L'heure de fin doit suivre l'heure de début."]
    errors, _ = findings(duration_minutes=120, windows=[window(start_time=time(10, 0), end_time=time(11, 0))])
    assert errors["windows-0-end_time"] == ["Ce créneau (60 min) est plus court qu'une intervention (120 min)."]


def test_missing_window_parts_and_no_window():
    errors, _ = findings(windows=[WindowInput(None, None, None, None)])
    assert errors == {"windows-0-start_date": ["Indiquez au moins une période de disponibilité."]}
    errors, _ = findings(windows=[WindowInput(date(2027, 1, 11), None, time(8, 0), None)])
    assert errors["windows-0-end_date"] == ["Indiquez la date de fin."]
    assert errors["windows-0-end_time"] == ["Indiquez l'heure de fin."]


def test_absurd_sizes_are_errors_and_large_classes_a_warning():
    errors, _ = findings(group_count=0, people_per_group=1000)
    assert errors["group_count"] == ["Entre 1 et 30 groupes par demande : au-delà, faites plusieurs demandes."]
    assert errors["people_per_group"] == ["Un groupe compte entre 3 et 300 personnes."]
    errors, warnings = findings(people_per_group=60)
    assert errors == {}
    assert warnings == ["Plus de 35 élèves par groupe : une intervention se tient d'ordinaire devant une classe. "
                        "Vérifiez le nombre de groupes."]
    assert findings(audience_codes=["salaries"], people_per_group=60) == ({}, [])


def test_audience_topic_and_duration_are_required():
    errors, _ = findings(audience_codes=[], topic_codes=[], duration_minutes=47)
    assert errors["audiences"] == ["Choisissez au moins un public."]
    assert errors["topics"] == ["Choisissez au moins un thème."]
    assert errors["duration_minutes"] == ["Durée non prévue."]


def test_topic_unsuited_to_audience_is_a_warning_kept_as_data():
    errors, warnings = findings(audience_codes=["6e"], topic_codes=["loi-sanctions"])
    assert errors == {}
    assert warnings == ["Le thème « La loi et les sanctions » est rarement abordé avec ce public (Élèves de 6e) : "
                        "précisez vos attentes dans les remarques, le formateur adaptera son propos."]
    assert findings(audience_codes=["4e"], topic_codes=["loi-sanctions"]) == ({}, [])


def test_public_holidays_block_a_window_entirely_on_them_including_alsace_moselle():
    christmas = [window(date(2026, 12, 25), date(2026, 12, 25))]
    errors, _ = findings(place=LYON_COMPANY, windows=christmas)
    assert errors["windows-0-start_date"] == ["Le 25 décembre 2026 est un jour férié (Jour de Noël)."]
    # 26 December is a public holiday in Moselle only.
    both_days = [window(date(2026, 12, 25), date(2026, 12, 26))]  # a Saturday: open on Saturdays here
    errors, _ = findings(place=Place("57", "B", False, saturday_classes=True), windows=both_days)
    assert "Aucun jour possible sur cette période" in errors["windows-0-start_date"][0]
    errors, warnings = findings(place=Place("69", "A", False, saturday_classes=True), windows=both_days)
    assert errors == {}
    assert "certains jours seront exclus" in warnings[0] and "Noël" in warnings[0]


def test_a_window_of_weekend_days_only_is_refused_with_the_reason():
    sunday = [window(date(2027, 1, 17), date(2027, 1, 17))]
    errors, _ = findings(windows=sunday)
    assert errors == {"windows-0-start_date": ["Le 17 janvier 2027 est un dimanche : pas d'intervention le dimanche."]}
    weekend = [window(date(2027, 1, 16), date(2027, 1, 17))]
    errors, _ = findings(windows=weekend)
    assert errors["windows-0-start_date"] == ["Aucun jour possible sur cette période : elle ne compte que des "
                                              "samedis et des dimanches, et l'établissement n'a pas cours le samedi "
                                              "(à indiquer dans la fiche de l'établissement si c'est le cas)."]
    errors, _ = findings(place=LYON_COMPANY, windows=[window(date(2027, 1, 16), date(2027, 1, 16))])
    assert "Le 16 janvier 2027 est un samedi, et l'établissement ne reçoit pas le samedi" in errors[
        "windows-0-start_date"][0]
    # With Saturday classes, the Saturday is a school day; the Sunday still is not.
    with_saturdays = Place("69", "A", True, saturday_classes=True)
    assert findings(place=with_saturdays, windows=weekend) == ({}, [])
    errors, _ = findings(place=with_saturdays, windows=sunday)
    assert "dimanche" in errors["windows-0-start_date"][0]


def test_weekends_inside_a_window_are_not_listed_as_excluded_days():
    two_weeks = [window(date(2027, 1, 11), date(2027, 1, 24))]  # two weekends, no holiday
    assert findings(windows=two_weeks) == ({}, [])


def test_zone_a_school_holidays_differ_from_zone_c():
    zone_a_winter = [window(date(2027, 2, 22), date(2027, 2, 26))]
    zone_c_winter = [window(date(2027, 2, 8), date(2027, 2, 12))]
    errors, _ = findings(place=LYON_SCHOOL, windows=zone_a_winter)
    assert errors["windows-0-start_date"][0].startswith("Aucun jour possible sur cette période : Le 22 février 2027 "
                                                        "tombe pendant les vacances scolaires")
    assert "zone A" in errors["windows-0-start_date"][0]
    assert findings(place=LYON_SCHOOL, windows=zone_c_winter) == ({}, [])
    errors, _ = findings(place=PARIS_SCHOOL, windows=zone_c_winter)
    assert "zone C" in errors["windows-0-start_date"][0]
    assert findings(place=PARIS_SCHOOL, windows=zone_a_winter) == ({}, [])
    # A company in zone A does not follow school holidays.
    assert findings(place=LYON_COMPANY, windows=zone_a_winter) == ({}, [])


def test_overseas_school_gets_a_warning_when_the_calendar_is_unknown():
    errors, warnings = findings(place=REUNION_SCHOOL)
    assert errors == {}
    assert len(warnings) == 1
    assert "Le calendrier des vacances scolaires n'est pas disponible pour cette zone" in warnings[0]
    assert "Vérifiez que le" in warnings[0]
