"""Dates and times of the pages: written once per value, zone, style and language, and never another's."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import url_for
from flask_babel import force_locale

from app.templating import date_filter, local_datetime_filter, local_time_filter, row_url


def test_a_date_written_in_one_language_is_not_served_in_another(app):
    day = date(2027, 1, 12)
    with app.test_request_context("/"):
        assert date_filter(day) == "12 janvier 2027"
        with force_locale("en"):
            assert date_filter(day) == "January 12, 2027"
            assert date_filter(datetime(2027, 1, 12, 23, 0, tzinfo=UTC)) == "January 12, 2027"
        assert date_filter(day) == "12 janvier 2027"
        assert date_filter(day, "short") == "12/01/2027"


def test_the_same_instant_reads_in_each_place_s_own_time(app):
    instant = datetime(2027, 1, 12, 8, 30, tzinfo=UTC)
    with app.test_request_context("/"):
        assert local_datetime_filter(instant) == "12 janv. 2027 à 9\u00a0h\u00a030"
        assert (local_datetime_filter(instant, "Indian/Reunion")
                == "12 janv. 2027 à 12\u00a0h\u00a030 (heure de La Réunion)")
        assert (local_datetime_filter(instant, "America/Cayenne", "long")
                == "mardi 12 janvier 2027 à 5\u00a0h\u00a030 (heure de la Guyane)")
        assert local_time_filter(instant) == "9\u00a0h\u00a030"
        assert local_time_filter(instant, "Pacific/Noumea") == "19\u00a0h\u00a030"
        with force_locale("en"):
            english = local_datetime_filter(instant, "America/Cayenne", "long")
            assert english == "Tuesday 12 January 2027 at 5:30\u202fAM (French Guiana Time)"
        assert local_datetime_filter(instant) == "12 janv. 2027 à 9\u00a0h\u00a030"


def render(template: str, **values) -> str:
    """A template string through the app's filters, as the pages and e-mails use them."""
    from flask import render_template_string

    return render_template_string(template, **values)


def test_dates_times_and_numbers_as_the_french_write_them_and_in_english(app):
    """One formatting module (app.formatting) behind every filter: « 1er mars », « 8 h 30 », « 14 h »,
    « septembre 2026 », decimal commas, the zone named for people only where it is not Paris' own."""
    first = date(2027, 3, 1)
    morning = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)  # 8:30 in Paris
    afternoon = datetime(2027, 3, 1, 13, 0, tzinfo=UTC)  # 14:00 in Paris, 17:00 in La Réunion
    template = ("{{ first|date_fr }}|{{ first|date_fr('full') }}|{{ first|date_fr('d MMMM') }}"
                "|{{ first|date_fr('short') }}"
                "|{{ morning|local_time }}|{{ afternoon|local_time }}|{{ nine|clock }}|{{ noon|clock }}"
                "|{{ morning|local_datetime }}|{{ afternoon|local_datetime('Indian/Reunion', 'long') }}"
                "|{{ afternoon|local_datetime('America/Guadeloupe') }}|{{ afternoon|local_datetime('Europe/Paris') }}"
                "|{{ '2026-09'|month }}|{{ september|month }}|{{ 12.5|number }}|{{ 1234567|number }}"
                "|{{ 0.5|number(2) }}|{{ 0.875|percent }}")
    values = dict(first=first, morning=morning, afternoon=afternoon, nine=time(9, 5), noon=time(12, 0),
                  september=date(2026, 9, 14))
    with app.test_request_context("/"):
        french = render(template, **values).split("|")
        with force_locale("en"):
            english = render(template, **values).split("|")
    nbsp, narrow = "\u00a0", "\u202f"
    assert french == [
        "1er mars 2027", "lundi 1er mars 2027", "1er mars", "01/03/2027",
        f"8{nbsp}h{nbsp}30", f"14{nbsp}h", f"9{nbsp}h{nbsp}05", f"12{nbsp}h",
        f"1er mars 2027 à 8{nbsp}h{nbsp}30", f"lundi 1er mars 2027 à 17{nbsp}h (heure de La Réunion)",
        f"1er mars 2027 à 9{nbsp}h (heure de la Guadeloupe)", f"1er mars 2027 à 14{nbsp}h",
        "septembre 2026", "septembre 2026", "12,5", f"1{narrow}234{narrow}567", "0,50", f"88{nbsp}%"]
    assert english == [
        "March 1, 2027", "Monday, March 1, 2027", "1 March", "3/1/27",
        f"8:30{narrow}AM", f"2:00{narrow}PM", f"9:05{narrow}AM", f"12:00{narrow}PM",
        f"1 Mar 2027, 8:30{narrow}AM", f"Monday 1 March 2027 at 5:00{narrow}PM (Réunion Time)",
        f"1 Mar 2027, 9:00{narrow}AM (Guadeloupe Time)", f"1 Mar 2027, 2:00{narrow}PM",
        "September 2026", "September 2026", "12.5", "1,234,567", "0.50", "88%"]


def test_the_domain_writes_its_reasons_the_same_way(app):
    """Outside a request (a command, a job) the module writes French; the domain's reasons use it too."""
    from app.formatting import clock_text, day_text, moment_text

    assert day_text(date(2027, 3, 1)) == "1er mars 2027"
    assert day_text(date(2027, 3, 11)) == "11 mars 2027"
    assert clock_text(time(8, 0)) == "8\u00a0h"
    assert (moment_text(datetime(2027, 3, 1, 7, 30, tzinfo=UTC), "Indian/Mayotte")
            == "1er mars 2027 à 10\u00a0h\u00a030 (heure de Mayotte)")


def test_a_rows_address_is_the_one_url_for_builds(app):
    with app.test_request_context("/"):
        trainer_url = row_url("trainers.detail", "trainer_id")
        candidates_url = row_url("coordination.candidates", "intervention_id", request_id=25)
        queue_url = row_url("coordination.queue", "apres", statut="")
        for row_id in (1, 7, 42, 123456):
            assert trainer_url(row_id) == url_for("trainers.detail", trainer_id=row_id)
            assert candidates_url(row_id) == url_for("coordination.candidates", request_id=25, intervention_id=row_id)
            assert queue_url(row_id) == url_for("coordination.queue", statut="", apres=row_id)
        assert trainer_url(7) == "/formateurs/7"


def test_plurals_through_ngettext_with_the_french_rule_for_zero(app):
    """« 1 groupe », « 2 groupes », and « 0 groupe » as French has it; English keeps "0 groups"."""
    from flask_babel import ngettext

    from app.formatting import plural_choice

    template = "{% for n in (0, 1, 2) %}{{ ngettext('%(num)s groupe', '%(num)s groupes', n) }}|{% endfor %}"
    with app.test_request_context("/"):
        assert render(template) == "0 groupe|1 groupe|2 groupes|"
        assert [ngettext("%(count)s créé", "%(count)s créés", plural_choice(n), count=n) for n in (0, 1, 2)] == [
            "0 créé", "1 créé", "2 créés"]
        with force_locale("en"):
            assert plural_choice(0) == 0 and plural_choice(2) == 2


def test_every_zone_of_the_departements_is_named_for_people(app):
    from app.domain.reference import load_departements
    from app.formatting import FRENCH_ZONE_NAMES, zone_text

    zones = {d.timezone for d in load_departements()}
    assert zones <= set(FRENCH_ZONE_NAMES)
    assert zone_text("America/Martinique", "fr") == "heure de la Martinique"
    assert zone_text("Indian/Reunion", "en") == "Réunion Time"
