"""Tests for UAI and SIRET validation and generation."""

from __future__ import annotations

import pytest

from app.domain.identifiers import (
    UAI_ALPHABET,
    is_valid_siret,
    is_valid_uai,
    make_siret,
    make_uai,
    normalize_siret,
    normalize_uai,
    uai_check_letter,
)


def _luhn_ok(digits: str) -> bool:
    """Independent Luhn check, written differently from the module's."""
    total = 0
    for position, char in enumerate(digits[::-1], start=1):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return total % 10 == 0


class TestUai:
    def test_alphabet_has_23_letters_without_i_o_q(self) -> None:
        assert len(UAI_ALPHABET) == 23
        assert not set("IOQ") & set(UAI_ALPHABET)

    def test_check_letter_computed_by_hand(self) -> None:
        # 750655 = 23 * 32637 + 4 -> index 4 -> "E".
        assert 750655 % 23 == 4
        assert uai_check_letter("0750655") == "E"
        # 0 -> index 0 -> "A"; 22 -> last letter "Z".
        assert uai_check_letter("0000000") == "A"
        assert uai_check_letter("0000022") == "Z"
        # 23 wraps around to "A".
        assert uai_check_letter("0000023") == "A"

    @pytest.mark.parametrize(
        "bad", ["075065", "07506550", "075065a", "", "０７５０６５５"]
    )
    def test_check_letter_rejects_non_7_digits(self, bad: str) -> None:
        with pytest.raises(ValueError):
            uai_check_letter(bad)

    @pytest.mark.parametrize(
        "value", ["0750655E", "0750655e", "  0750655E\n", "0750655 E"]
    )
    def test_valid_uai(self, value: str) -> None:
        assert is_valid_uai(value)

    @pytest.mark.parametrize(
        "value",
        [
            "0750655F",  # wrong letter
            "0750656E",  # one digit changed
            "0750655",  # too short
            "07506555E",  # too long
            "075O655E",  # letter O instead of zero
            "07506551",  # no letter
            "",
        ],
    )
    def test_invalid_uai(self, value: str) -> None:
        assert not is_valid_uai(value)

    def test_normalize_uai(self) -> None:
        assert normalize_uai(" 0750655e ") == "0750655E"

    @pytest.mark.parametrize(
        "number", [0, 1, 750655, 6200001, 7200009, 9710001, 9_999_999]
    )
    def test_make_uai_round_trip(self, number: int) -> None:
        uai = make_uai(number)
        assert len(uai) == 8
        assert uai[:7] == f"{number:07d}"
        assert is_valid_uai(uai)

    def test_make_uai_known_value(self) -> None:
        assert make_uai(750655) == "0750655E"

    @pytest.mark.parametrize("number", [-1, 10_000_000])
    def test_make_uai_out_of_range(self, number: int) -> None:
        with pytest.raises(ValueError):
            make_uai(number)


class TestSiret:
    @pytest.mark.parametrize(
        "value",
        [
            "73282932000074",
            "732 829 320 00074",
            " 73282932000074 ",
            "732\u00a0829\u00a0320\u00a000074",
        ],
    )
    def test_valid_siret(self, value: str) -> None:
        assert is_valid_siret(value)

    @pytest.mark.parametrize(
        "value",
        [
            "73282932000075",  # last digit changed
            "73282932100074",  # middle digit changed
            "7328293200007",  # 13 digits
            "732829320000740",  # 15 digits
            "7328293200007A",
            "",
        ],
    )
    def test_invalid_siret(self, value: str) -> None:
        assert not is_valid_siret(value)

    def test_normalize_siret(self) -> None:
        assert normalize_siret("732 829 320 00074") == "73282932000074"

    def test_la_poste_exception(self) -> None:
        # Head office: Luhn-valid.
        assert is_valid_siret("35600000000048")
        # An establishment whose digit sum (3+5+6+9+2=25) is a multiple of 5
        # but which fails Luhn.
        siret = "35600000000092"
        assert sum(map(int, siret)) % 5 == 0
        assert not _luhn_ok(siret)
        assert is_valid_siret(siret)
        # Digit sum 26: neither rule holds.
        assert not is_valid_siret("35600000000093")

    def test_digit_sum_rule_only_for_la_poste(self) -> None:
        siret = "73282932000081"  # digit sum 45, but not Luhn and not La Poste
        assert sum(map(int, siret)) % 5 == 0
        assert not _luhn_ok(siret)
        assert not is_valid_siret(siret)

    @pytest.mark.parametrize(
        ("siren8", "nic_prefix"),
        [(0, 0), (73282932, 7), (12345678, 1234), (99_999_999, 9_999)],
    )
    def test_make_siret_round_trip(self, siren8: int, nic_prefix: int) -> None:
        siret = make_siret(siren8, nic_prefix)
        assert len(siret) == 14
        assert siret[:8] == f"{siren8:08d}"
        assert siret[9:13] == f"{nic_prefix:04d}"
        assert _luhn_ok(siret)
        assert _luhn_ok(siret[:9])  # the SIREN itself is valid
        assert is_valid_siret(siret)

    def test_make_siret_known_value(self) -> None:
        assert make_siret(73282932, 7) == "73282932000074"

    @pytest.mark.parametrize(
        ("siren8", "nic_prefix"), [(-1, 0), (100_000_000, 0), (1, -1), (1, 10_000)]
    )
    def test_make_siret_out_of_range(self, siren8: int, nic_prefix: int) -> None:
        with pytest.raises(ValueError):
            make_siret(siren8, nic_prefix)
