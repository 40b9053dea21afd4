"""Consistency checks on the shipped département reference data (no Flask needed)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from app.domain.reference import (
    DepartementInfo,
    departement_for_commune,
    load_departements,
    timezone_for_departement,
)

# From /work/shared/domain.md, "School holidays" (zones since 2016).
ZONE_ACADEMIES: dict[str, set[str]] = {
    "A": {
        "Besançon",
        "Bordeaux",
        "Clermont-Ferrand",
        "Dijon",
        "Grenoble",
        "Limoges",
        "Lyon",
        "Poitiers",
    },
    "B": {
        "Aix-Marseille",
        "Amiens",
        "Lille",
        "Nancy-Metz",
        "Nantes",
        "Nice",
        "Normandie",
        "Orléans-Tours",
        "Reims",
        "Rennes",
        "Strasbourg",
    },
    "C": {"Créteil", "Montpellier", "Paris", "Toulouse", "Versailles"},
}

OVERSEAS_TIMEZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}

NO_ZONE_ACADEMIES = {
    "Corse",
    "Guadeloupe",
    "Martinique",
    "Guyane",
    "La Réunion",
    "Mayotte",
}


@pytest.fixture(scope="module")
def deps() -> dict[str, DepartementInfo]:
    return {dep.code: dep for dep in load_departements()}


def test_exactly_101_unique_departements() -> None:
    codes = [dep.code for dep in load_departements()]
    assert len(codes) == 101
    assert len(set(codes)) == 101


def test_metropolitan_codes(deps: dict[str, DepartementInfo]) -> None:
    expected = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
    assert {code for code in deps if not code.startswith("97")} == expected


def test_corsica_split(deps: dict[str, DepartementInfo]) -> None:
    assert "2A" in deps and "2B" in deps
    assert "20" not in deps
    assert deps["2A"].name == "Corse-du-Sud"
    assert deps["2B"].name == "Haute-Corse"


def test_overseas_codes_and_timezones(deps: dict[str, DepartementInfo]) -> None:
    overseas = {
        code: dep.timezone for code, dep in deps.items() if code.startswith("97")
    }
    assert overseas == OVERSEAS_TIMEZONES
    for code, tz in OVERSEAS_TIMEZONES.items():
        assert timezone_for_departement(code) == tz


def test_metropolitan_timezone(deps: dict[str, DepartementInfo]) -> None:
    for code, dep in deps.items():
        if not code.startswith("97"):
            assert dep.timezone == "Europe/Paris", code
    assert timezone_for_departement("75") == "Europe/Paris"
    assert timezone_for_departement("2a") == "Europe/Paris"


def test_unknown_departement_timezone() -> None:
    with pytest.raises(KeyError):
        timezone_for_departement("20")


def test_every_timezone_resolves(deps: dict[str, DepartementInfo]) -> None:
    for dep in deps.values():
        ZoneInfo(dep.timezone)


def test_zone_academies_are_mapped(deps: dict[str, DepartementInfo]) -> None:
    academie_zones: dict[str, set[str | None]] = {}
    for dep in deps.values():
        academie_zones.setdefault(dep.academie, set()).add(dep.holiday_zone)
    for zone, academies in ZONE_ACADEMIES.items():
        for academie in academies:
            assert academie_zones.get(academie) == {zone}, academie
    # No académie outside the known lists.
    known = set().union(*ZONE_ACADEMIES.values()) | NO_ZONE_ACADEMIES
    assert set(academie_zones) == known


def test_holiday_zone_matches_academie(deps: dict[str, DepartementInfo]) -> None:
    zone_of = {a: z for z, academies in ZONE_ACADEMIES.items() for a in academies}
    for dep in deps.values():
        assert dep.holiday_zone == zone_of.get(dep.academie), dep.code


def test_corsica_and_overseas_have_no_zone(deps: dict[str, DepartementInfo]) -> None:
    for code in ["2A", "2B", *OVERSEAS_TIMEZONES]:
        assert deps[code].holiday_zone is None, code
        assert deps[code].academie in NO_ZONE_ACADEMIES, code


@pytest.mark.parametrize(
    ("code", "academie", "zone"),
    [
        ("75", "Paris", "C"),
        ("77", "Créteil", "C"),
        ("93", "Créteil", "C"),
        ("92", "Versailles", "C"),
        ("13", "Aix-Marseille", "B"),
        ("83", "Nice", "B"),
        ("76", "Normandie", "B"),
        ("57", "Nancy-Metz", "B"),
        ("67", "Strasbourg", "B"),
        ("69", "Lyon", "A"),
        ("38", "Grenoble", "A"),
        ("09", "Toulouse", "C"),
        ("48", "Montpellier", "C"),
    ],
)
def test_sample_academies(
    deps: dict[str, DepartementInfo], code: str, academie: str, zone: str
) -> None:
    assert deps[code].academie == academie
    assert deps[code].holiday_zone == zone


def test_coordinates_plausible(deps: dict[str, DepartementInfo]) -> None:
    for code, dep in deps.items():
        if code.startswith("97"):
            assert -25 <= dep.latitude <= 20, code
            assert -65 <= dep.longitude <= 60, code
        else:
            assert 41 <= dep.latitude <= 51.2, code
            assert -5.2 <= dep.longitude <= 9.6, code
    # Corsica is at the south-east corner of metropolitan France.
    assert deps["2A"].latitude < 42.5 and deps["2A"].longitude > 8.5
    assert deps["2B"].latitude > deps["2A"].latitude


def test_names_and_regions_non_empty(deps: dict[str, DepartementInfo]) -> None:
    for dep in deps.values():
        assert dep.name and dep.region and dep.academie, dep.code
    assert deps["13"].name == "Bouches-du-Rhône"
    assert deps["974"].name == "La Réunion"


@pytest.mark.parametrize(
    ("insee", "expected"),
    [
        ("75056", "75"),
        ("2A004", "2A"),
        ("97411", "974"),
        ("01001", "01"),
        ("2b033", "2B"),
    ],
)
def test_departement_for_commune(insee: str, expected: str) -> None:
    assert departement_for_commune(insee) == expected


@pytest.mark.parametrize("bad", ["", "7505", "750560", "2C004", "ABCDE", "75 56"])
def test_departement_for_commune_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError):
        departement_for_commune(bad)


def test_communes_map_to_known_departements(deps: dict[str, DepartementInfo]) -> None:
    for insee in ["75056", "2A004", "97411", "01001", "97611", "13055"]:
        assert departement_for_commune(insee) in deps
