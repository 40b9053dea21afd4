"""Tests for public holidays, school holidays and the day check."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.domain.holidays import (
    DayCheck,
    SchoolHolidayAnswer,
    WindowCheck,
    check_day,
    is_public_holiday,
    public_holiday_zone,
    public_holidays,
    school_calendar_coverage,
    school_holiday,
)
from app.formatting import day_text

GOOD_FRIDAY_2026 = date(2026, 4, 3)  # Easter Sunday 2026 is 5 April.


class TestPublicHolidays:
    @pytest.mark.parametrize(
        ("code", "zone"),
        [
            ("75", "Métropole"),
            ("2A", "Métropole"),
            ("2b", "Métropole"),
            ("57", "Alsace-Moselle"),
            ("67", "Alsace-Moselle"),
            ("68", "Alsace-Moselle"),
            ("971", "Guadeloupe"),
            ("972", "Martinique"),
            ("973", "Guyane"),
            ("974", "La Réunion"),
            ("976", "Mayotte"),
        ],
    )
    def test_zone_mapping(self, code: str, zone: str) -> None:
        assert public_holiday_zone(code) == zone

    def test_metropole_2026(self) -> None:
        holidays = public_holidays("75", 2026)
        assert len(holidays) == 11
        assert holidays[date(2026, 11, 11)] == "11 novembre"
        assert holidays[date(2026, 5, 14)] == "Ascension"

    @pytest.mark.parametrize("code", ["57", "67", "68"])
    def test_alsace_moselle_extra_days(self, code: str) -> None:
        assert is_public_holiday(code, date(2026, 12, 26)) == "2ème jour de Noël"
        assert is_public_holiday(code, GOOD_FRIDAY_2026) == "Vendredi saint"
        assert len(public_holidays(code, 2026)) == 13

    def test_alsace_moselle_days_not_in_paris(self) -> None:
        assert is_public_holiday("75", date(2026, 12, 26)) is None
        assert is_public_holiday("75", GOOD_FRIDAY_2026) is None

    def test_abolition_of_slavery_guadeloupe(self) -> None:
        assert is_public_holiday("971", date(2026, 5, 27)) == "Abolition de l'esclavage"
        assert is_public_holiday("972", date(2026, 5, 27)) is None
        assert is_public_holiday("972", date(2026, 5, 22)) == "Abolition de l'esclavage"
        assert is_public_holiday("75", date(2026, 5, 27)) is None

    def test_reunion_20_december(self) -> None:
        assert (
            is_public_holiday("974", date(2026, 12, 20)) == "Abolition de l'esclavage"
        )
        assert is_public_holiday("75", date(2026, 12, 20)) is None

    def test_ordinary_day(self) -> None:
        assert is_public_holiday("75", date(2026, 11, 12)) is None

    def test_returned_dict_is_a_copy(self) -> None:
        holidays = public_holidays("75", 2026)
        holidays.clear()
        assert public_holidays("75", 2026)

    def test_accepts_datetime(self) -> None:
        assert is_public_holiday("75", datetime(2026, 11, 11, 10, 0)) == "11 novembre"


class TestSchoolHolidays:
    def test_christmas_zone_a(self) -> None:
        answer = school_holiday("A", date(2026, 12, 23))
        assert answer == SchoolHolidayAnswer("holiday", name="Vacances de Noël")
        assert answer.is_holiday

    def test_zone_is_case_insensitive(self) -> None:
        assert school_holiday(" a ", date(2026, 12, 23)).status == "holiday"

    def test_summer_holidays_are_holidays(self) -> None:
        answer = school_holiday("A", date(2026, 8, 14))
        assert answer.status == "holiday"
        assert answer.name == "Vacances d'été"

    def test_mid_november_is_a_school_day(self) -> None:
        answer = school_holiday("A", date(2026, 11, 16))
        assert answer == SchoolHolidayAnswer("school_day")
        assert answer.is_known and not answer.is_holiday

    def test_february_holidays_differ_between_zones(self) -> None:
        # Winter 2026: zone A from 7 to 22 February, zone C from 21 February to 8 March.
        zone_a_only = date(2026, 2, 10)
        assert school_holiday("A", zone_a_only).status == "holiday"
        assert school_holiday("A", zone_a_only).name == "Vacances d'hiver"
        assert school_holiday("C", zone_a_only).status == "school_day"

        zone_c_only = date(2026, 3, 3)
        assert school_holiday("C", zone_c_only).status == "holiday"
        assert school_holiday("C", zone_c_only).name == "Vacances d'hiver"
        assert school_holiday("A", zone_c_only).status == "school_day"

    @pytest.mark.parametrize("zone", ["A", "B", "C"])
    def test_pont_de_l_ascension(self, zone: str) -> None:
        # The library lacks the 2023-2026 "ponts"; the official calendar gives
        # Friday 15/05/2026 off in every zone. 2027 comes from the library.
        for friday in (date(2026, 5, 15), date(2027, 5, 7)):
            answer = school_holiday(zone, friday)
            assert answer == SchoolHolidayAnswer("holiday", name="Pont de l'Ascension")
        assert school_holiday(zone, date(2026, 5, 13)).status == "school_day"
        assert school_holiday(zone, date(2026, 5, 18)).status == "school_day"

    @pytest.mark.parametrize("zone", [None, "", "Corse", "Guadeloupe", "D"])
    def test_zone_without_data_is_unknown(self, zone: str | None) -> None:
        answer = school_holiday(zone, date(2026, 11, 16))
        assert answer.status == "unknown"
        assert answer.name is None
        assert answer.reason == (
            "Le calendrier des vacances scolaires n'est pas disponible pour cette zone "
            "(Corse, outre-mer)."
        )
        assert not answer.is_known

    def test_coverage_ends_with_last_published_holidays(self) -> None:
        first, last = school_calendar_coverage()
        assert first <= date(2016, 1, 1)
        assert last >= date(2028, 8, 31)
        assert school_holiday("A", last).status == "holiday"

    @pytest.mark.parametrize(
        "day",
        [
            date(2030, 1, 15),  # year outside the library's data
            date(1985, 11, 18),  # before the data starts
        ],
    )
    def test_date_outside_data_is_unknown(self, day: date) -> None:
        answer = school_holiday("A", day)
        assert answer.status == "unknown"
        assert answer.reason == (
            "Le calendrier des vacances scolaires n'est pas disponible pour cette date "
            f"({day_text(day, locale='fr')})."
        )

    def test_date_after_last_published_calendar_is_unknown(self) -> None:
        # The library's rows run to 31/12/2028, but nothing is published after
        # the summer of 2028: the Toussaint 2028 would silently look like school days.
        _, last = school_calendar_coverage()
        day = date(2028, 10, 25)
        assert day > last
        answer = school_holiday("A", day)
        assert answer.status == "unknown"
        assert answer.reason is not None and "25 octobre 2028" in answer.reason


class TestCheckDay:
    def test_public_holiday_blocks_every_session(self) -> None:
        expected = DayCheck(
            blocked_reason="Le 11 novembre 2026 est un jour férié (11 novembre)."
        )
        assert check_day("75", "C", date(2026, 11, 11), is_school=True) == expected
        assert check_day("75", "C", date(2026, 11, 11), is_school=False) == expected
        assert check_day("75", "C", date(2026, 11, 11), is_school=False).is_blocked

    def test_school_holidays_block_only_schools(self) -> None:
        day = date(2026, 12, 23)
        assert check_day("69", "A", day, is_school=True) == DayCheck(
            blocked_reason=(
                "Le 23 décembre 2026 tombe pendant les vacances scolaires (Vacances de Noël, zone A)."
            )
        )
        assert check_day("69", "A", day, is_school=False) == DayCheck()

    def test_school_day_is_free(self) -> None:
        check = check_day("69", "a", date(2026, 11, 16), is_school=True)
        assert check == DayCheck()
        assert not check.is_blocked

    def test_unknown_calendar_warns_without_blocking(self) -> None:
        check = check_day("2A", None, date(2026, 11, 16), is_school=True)
        assert check.blocked_reason is None
        assert check.warning is not None
        assert check.warning.startswith(
            "Le calendrier des vacances scolaires n'est pas disponible pour cette zone"
        )
        assert "16 novembre 2026" in check.warning
        # Non-school requesters do not care about school holidays.
        assert check_day("2A", None, date(2026, 11, 16), is_school=False) == DayCheck()

    def test_overseas_public_holiday_still_blocks(self) -> None:
        check = check_day("974", None, date(2026, 12, 20), is_school=True)
        assert check.blocked_reason == (
            "Le 20 décembre 2026 est un jour férié (Abolition de l'esclavage)."
        )

    def test_weekend_not_blocked(self) -> None:
        # Saturday 14/11/2026, outside school holidays.
        assert check_day("75", "C", date(2026, 11, 14), is_school=True) == DayCheck()

    def test_window_check_binds_context(self) -> None:
        window = WindowCheck(departement_code="57", zone="B", is_school=True)
        assert window.check(GOOD_FRIDAY_2026).blocked_reason == (
            "Le 3 avril 2026 est un jour férié (Vendredi saint)."
        )
        assert window.check(date(2026, 11, 16)) == DayCheck()
