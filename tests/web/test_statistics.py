"""Dashboards: figures checked against counts made independently, scope, CSV equal to the screen."""

from __future__ import annotations

import csv
import html
import io
import re
import statistics
from datetime import UTC, date

from sqlalchemy import func, select

from app.domain.demo import DEMO_PASSWORD
from app.domain.policies import REQUESTS, SESSIONS, TRAINERS
from app.domain.statistics import KIND_LABELS, Period, build_dashboard, school_year
from app.extensions import db
from app.models import Intervention, InterventionRequest, InterventionStatus, SessionReport, Trainer, User
from tests.factories import load_demo_data, make_confirmed_session
from tests.helpers import login

LAST_YEAR = {"date_from": "2025-09-01", "date_to": "2026-08-31"}


def demo(clock):
    load_demo_data(seed=2026, today=clock.now().date())


def independent_counts(sessions, period: Period) -> dict:
    """Plain Python over the rows: what the SQL aggregates must find."""
    low, high = period.bounds
    inside = [s for s in sessions if s.starts_at is not None and low <= s.starts_at < high]
    given = [s for s in inside if s.status is InterventionStatus.DONE]
    people = sum(max((r.people_present or 0 for r in s.reports if r.held), default=0) for s in given)
    by_force: dict[str, int] = {}
    by_topic: dict[str, list[int]] = {}
    by_kind: dict[str, int] = {}
    for s in given:
        by_force[s.force.value] = by_force.get(s.force.value, 0) + 1
        by_kind[s.request.establishment.kind.value] = by_kind.get(s.request.establishment.kind.value, 0) + 1
        reached = max((r.people_present or 0 for r in s.reports if r.held), default=0)
        for topic in s.request.topics:
            counts = by_topic.setdefault(topic.label_fr, [0, 0])
            counts[0] += 1
            counts[1] += reached
    delays = [(s.confirmed_at - s.request.submitted_at).total_seconds() / 86400 for s in inside
              if s.confirmed_at is not None and s.request.submitted_at is not None]
    requests = {s.request for s in sessions} | set(db.session.scalars(select(InterventionRequest)))
    submitted = [r for r in requests if r.submitted_at is not None and low <= r.submitted_at.replace(tzinfo=UTC) < high]
    served = [r for r in submitted if any(s.status in (InterventionStatus.CONFIRMED, InterventionStatus.DONE)
                                          for s in r.interventions)]
    return {"given": len(given), "people": people,
            "cancelled": sum(1 for s in inside if s.status is InterventionStatus.CANCELLED), "by_force": by_force,
            "by_topic": by_topic, "by_kind": by_kind,
            "median_delay": round(statistics.median(delays), 1) if delays else None,
            "served_share": round(100 * len(served) / len(submitted), 1) if submitted else None}


def test_national_and_scoped_figures_match_independent_counts(app, clock):
    demo(clock)
    admin = User.by_email("admin@relais.demo")
    coordinator = User.by_email("coordination.police.69@relais.demo")
    everything = db.session.scalars(select(Intervention)).all()
    for period in (school_year(clock.now().date()), Period(date(2025, 9, 1), date(2026, 8, 31))):
        expected = independent_counts(everything, period)
        board = build_dashboard(db.session, session_scope=SESSIONS.rows(admin), request_scope=REQUESTS.rows(admin),
                                trainer_scope=TRAINERS.rows(admin), period=period)
        assert board.summary["given"] == expected["given"] and board.summary["people"] == expected["people"]
        assert board.summary["cancelled"] == expected["cancelled"]
        forces = {row[0]: row[1] for row in board.table("forces").rows}
        assert forces == {{"police": "Police nationale", "gendarmerie": "Gendarmerie nationale"}[k]: v
                          for k, v in expected["by_force"].items()}
        assert board.summary["median_delay_days"] == expected["median_delay"] is not None
        assert board.summary["served_share"] == expected["served_share"] is not None
        assert {row[0]: row[1:] for row in board.table("themes").rows} == expected["by_topic"]
        assert {row[0]: row[1] for row in board.table("etablissements").rows} == {
            KIND_LABELS[k]: v for k, v in expected["by_kind"].items()}
        months = board.table("mois").rows
        assert sum(row[2] for row in months) == expected["given"]
        assert sum(row[4] for row in months) == expected["people"]
        active_trainers = db.session.scalar(select(func.count(Trainer.id)).where(Trainer.active))
        assert sum(row[1] for row in board.table("charge").rows) == active_trainers
    scoped = [s for s in everything if s.departement_code == "69" and s.force.value == "police"]
    period = Period(date(2025, 9, 1), date(2026, 8, 31))
    board = build_dashboard(db.session, session_scope=SESSIONS.rows(coordinator),
                            request_scope=REQUESTS.rows(coordinator), trainer_scope=TRAINERS.rows(coordinator),
                            period=period)
    assert board.summary["given"] == independent_counts(scoped, period)["given"] > 0
    assert {row[0] for row in board.table("departements").rows} == {"Rhône"}


def _screen_table(page: str, key: str) -> list[list[str]]:
    table = re.search(rf'<table class="table table-sm w-auto" id="donnees-{key}">(.*?)</table>', page, re.S).group(1)
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                     for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
    return rows


def test_dashboard_page_charts_and_csv_equal_to_the_screen(app, client, clock):
    demo(clock)
    login(client, User.by_email("coordination.police.69@relais.demo"), DEMO_PASSWORD)
    response = client.get("/statistiques/", query_string=LAST_YEAR)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<svg" in page and "<script" not in page.split("<footer")[0]
    assert 'role="img" aria-label="Graphique : Par mois.' in page
    months = [row[0] for row in _screen_table(page, "mois")[1:]]
    assert months[0].startswith("septembre 20") and months[-1].startswith("août 20"), months  # not 2025-09
    for key in ("mois", "themes", "forces", "charge"):
        shown = _screen_table(page, key)
        exported = list(csv.reader(io.StringIO(client.get(f"/statistiques/{key}.csv", query_string=LAST_YEAR)
                                               .get_data(as_text=True).removeprefix("\ufeff")), delimiter=";"))
        assert exported == shown, key
    bad = client.get("/statistiques/", query_string={"date_from": "2026-08-31", "date_to": "2025-09-01"})
    assert bad.status_code == 400 and "La fin doit suivre le début." in html.unescape(bad.get_data(as_text=True))
    foreign = client.get("/statistiques/", query_string={**LAST_YEAR, "departement": "13"})
    assert foreign.status_code == 400, "a département outside the scope is not a choice"


def test_a_report_moves_the_dashboard(app, client, clock):
    from datetime import timedelta

    from app.domain import reports
    intervention, trainer, coordinator = make_confirmed_session()
    period = {"date_from": "2027-01-01", "date_to": "2027-01-31"}
    login(client, coordinator)
    before = client.get("/statistiques/", query_string=period).get_data(as_text=True)
    assert re.search(r"Personnes touchées</th><td data-indicateur=\"6\">0<", before)
    clock.freeze(intervention.ends_at + timedelta(hours=1))
    reports.save_report(db.session, intervention, trainer,
                        reports.ReportData(held=True, people_present=27, topic_codes=("cannabis",)), trainer.user,
                        clock.now())
    db.session.commit()
    after = client.get("/statistiques/", query_string=period).get_data(as_text=True)
    assert re.search(r"Personnes touchées</th><td data-indicateur=\"6\">27<", after)
    assert re.search(r"Interventions réalisées</th><td data-indicateur=\"3\">1<", after)
    assert db.session.scalar(select(SessionReport.people_present)) == 27
    # A correction within the 30 days moves the figure again (the session stays done).
    reports.save_report(db.session, intervention, trainer,
                        reports.ReportData(held=True, people_present=31, topic_codes=("cannabis",)), trainer.user,
                        clock.now() + timedelta(days=2))
    db.session.commit()
    corrected = client.get("/statistiques/", query_string=period).get_data(as_text=True)
    assert re.search(r"Personnes touchées</th><td data-indicateur=\"6\">31<", corrected)


def test_the_dashboard_is_computed_once_per_revision(app, client, clock, database_url):
    """Read again from the cache until a change is committed, by this worker or another one."""
    from datetime import timedelta

    from sqlalchemy import event

    from app import create_app
    from app.domain import reports
    intervention, trainer, coordinator = make_confirmed_session()
    period = {"date_from": "2027-01-01", "date_to": "2027-01-31"}
    login(client, coordinator)
    statements: list[str] = []

    def count(_connection, _cursor, sql, *_):
        statements.append(sql)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        first = client.get("/statistiques/", query_string=period).get_data(as_text=True)
        computed, statements[:] = len(statements), []
        again = client.get("/statistiques/", query_string=period).get_data(as_text=True)
        figures = re.compile(r'data-indicateur="\d+">([^<]*)<')
        assert figures.findall(again) == figures.findall(first) and len(figures.findall(first)) == 9
        assert _screen_table(again, "mois") == _screen_table(first, "mois")
        assert len(statements) <= computed - 8, "the figures' statements are not run again"
        assert not any("sum(" in sql.lower() for sql in statements)
        # Another worker (another app on the same database) files the report: the next page counts it.
        other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
        with other.app_context():
            reports.save_report(db.session, db.session.get(type(intervention), intervention.id),
                                db.session.get(type(trainer), trainer.id),
                                reports.ReportData(held=True, people_present=23, topic_codes=("cannabis",)),
                                db.session.get(type(trainer), trainer.id).user,
                                intervention.ends_at + timedelta(hours=1))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        db.session.commit()  # this worker's next request starts a new transaction
        statements[:] = []
        moved = client.get("/statistiques/", query_string=period).get_data(as_text=True)
        assert len(statements) >= computed - 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert re.search(r"Personnes touchées</th><td data-indicateur=\"6\">23<", moved)
    assert re.search(r"Personnes touchées</th><td data-indicateur=\"6\">0<", first)
