"""Dates and times of the pages: written once per value, zone, style and language, and never another's."""

from __future__ import annotations

from datetime import UTC, date, datetime

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
        assert local_datetime_filter(instant) == "12 janv. 2027 09:30"
        assert local_datetime_filter(instant, "Indian/Reunion") == "12 janv. 2027 12:30 (Reunion)"
        assert local_datetime_filter(instant, "America/Cayenne", "long") == "mardi 12 janvier 2027 à 05:30 (Cayenne)"
        assert local_time_filter(instant) == "09:30"
        assert local_time_filter(instant, "Pacific/Noumea") == "19:30"
        with force_locale("en"):
            english = local_datetime_filter(instant, "America/Cayenne", "long")
            assert english == "Tuesday 12 January 2027 at 05:30 (Cayenne)"
        assert local_datetime_filter(instant) == "12 janv. 2027 09:30"


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
