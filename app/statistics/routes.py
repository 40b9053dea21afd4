"""The dashboards: a coordinator's scope, or the whole country for admins; charts, tables and CSV."""

from __future__ import annotations

import functools
import re

import pygal
from flask import Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from pygal.style import Style
from sqlalchemy import and_, select

from app.access import permission
from app.domain import audit
from app.domain.clock import utcnow
from app.domain.imports.tables import csv_file
from app.domain.policies import REQUESTS, SESSIONS, TRAINERS, departements_of
from app.domain.revisions import current_revision
from app.domain.statistics import Dashboard, Period, Table, build_dashboard, school_year
from app.extensions import cache, db
from app.formatting import month_text
from app.models import Force, Intervention, InterventionRequest, Role, Trainer
from app.models.trainers import trainer_departement
from app.statistics import bp
from app.statistics.forms import PeriodForm
from app.unit_of_work import run

TITLES = {"mois": _l("Par mois"), "themes": _l("Par thème demandé"), "publics": _l("Par public"),
          "etablissements": _l("Par type d'établissement"), "departements": _l("Par département"),
          "forces": _l("Par force"), "charge": _l("Charge des formateurs (interventions réalisées sur la période)")}
COLUMNS = {
    "Mois": _l("Mois"), "Programmées": _l("Programmées"), "Réalisées": _l("Réalisées"), "Annulées": _l("Annulées"),
    "Personnes touchées": _l("Personnes touchées"), "Thème": _l("Thème"), "Public": _l("Public"),
    "Interventions réalisées": _l("Interventions réalisées"), "Type d'établissement": _l("Type d'établissement"),
    "Département": _l("Département"), "Force": _l("Force"),
    "Interventions par formateur": _l("Interventions par formateur"), "Formateurs": _l("Formateurs"),
}
# Labels that come from the data but have a translation (kinds of establishment, forces).
TRANSLATED_VALUES = {"Collège": _l("Collège"), "Lycée": _l("Lycée"), "Lycée professionnel": _l("Lycée professionnel"),
                     "Enseignement supérieur": _l("Enseignement supérieur"), "Entreprise": _l("Entreprise"),
                     "Administration": _l("Administration"), "Association": _l("Association"), "Autre": _l("Autre"),
                     "Police nationale": _l("Police nationale"), "Gendarmerie nationale": _l("Gendarmerie nationale")}
_MONTH_KEY = re.compile(r"^\d{4}-\d{2}$")
# Dark, distinct colours that keep a 4.5:1 contrast on white (RGAA).
CHART_STYLE = Style(background="white", plot_background="white", foreground="#1e1e1e",
                    foreground_strong="#1e1e1e", foreground_subtle="#555555", colors=("#000091", "#b34000", "#18753c",
                                                                                       "#6a6af4", "#a94645"),
                    font_family="Arial, sans-serif", label_font_size=12, major_label_font_size=12,
                    legend_font_size=13, title_font_size=15)


def _scope_and_form() -> tuple[PeriodForm, Period, object, object, object, int, str]:
    form = PeriodForm(request.args if request.args else None)
    form.departement.choices = [("", _("Tout mon périmètre"))] + departements_of(db.session, current_user)
    status = 200
    if request.args and not form.validate():
        status = 400
    period = school_year(utcnow().date())
    if status == 200 and form.date_from.data and form.date_to.data:
        period = Period(form.date_from.data, form.date_to.data)
    sessions = SESSIONS.rows(current_user)
    requests = REQUESTS.rows(current_user)
    trainers = TRAINERS.rows(current_user)
    if status == 200 and form.departement.data:
        code = form.departement.data
        sessions = and_(sessions, Intervention.departement_code == code)
        requests = and_(requests, InterventionRequest.departement_code == code)
        trainers = and_(trainers, Trainer.id.in_(select(trainer_departement.c.trainer_id)
                                                 .where(trainer_departement.c.departement_code == code)))
    if status == 200 and form.force.data:
        force = Force(form.force.data)
        sessions = and_(sessions, Intervention.force == force)
        requests = and_(requests, InterventionRequest.force == force)
        trainers = and_(trainers, Trainer.force == force)
    # What the conditions above select, in words: the cache key of these figures.
    territory = ("national" if current_user.role is Role.ADMIN else
                 ",".join(sorted(f"{s.departement_code}/{s.force.value if s.force else '*'}"
                                 for s in current_user.scopes)))
    if status == 200:
        territory += f"|{form.departement.data or ''}|{form.force.data or ''}"
    return form, period, sessions, requests, trainers, status, territory


def _dashboard() -> tuple[PeriodForm, Dashboard, int]:
    """The figures of the scope and period, computed once per revision of the data (app.domain.revisions):
    the same page again is read from the cache; any change committed since makes a new key."""
    form, period, sessions, requests, trainers, status, territory = _scope_and_form()
    language = current_user.language or "fr"
    revision = current_revision(db.session)
    key = f"dashboard:{revision}:{territory}:{period.start}:{period.end}:{language}"
    dashboard = _from_cache(key) if revision is not None else None
    if dashboard is None:
        dashboard = build_dashboard(db.session, session_scope=sessions, request_scope=requests,
                                    trainer_scope=trainers, period=period, language=language)
        if revision is not None:
            _to_cache(key, dashboard)
    for table in dashboard.tables:
        table.rows = [[str(TRANSLATED_VALUES[row[0]]) if row[0] in TRANSLATED_VALUES else row[0], *row[1:]]
                      for row in table.rows]
        if table.key == "mois":  # « septembre 2026 », on the page and in its CSV alike
            table.rows = [[month_text(row[0]) if _MONTH_KEY.match(str(row[0])) else row[0], *row[1:]]
                          for row in table.rows]
    return form, dashboard, status


def _from_cache(key: str) -> Dashboard | None:
    try:
        return cache.get(key)
    except Exception:  # a shared cache that is down (Redis) must not take the page with it: compute instead
        current_app.logger.warning("dashboard cache unavailable", exc_info=True)
        return None


def _to_cache(key: str, dashboard: Dashboard) -> None:
    try:
        cache.set(key, dashboard)
    except Exception:  # the same: the figures are shown, only not kept
        current_app.logger.warning("dashboard cache unavailable", exc_info=True)


def chart_svg(table: Table) -> Markup:
    """The table's first figure as an inline SVG; its data stays in the table under it (RGAA)."""
    line = table.chart == "line"
    rows = table.rows if line else list(reversed(table.rows[:15]))
    label = _("Graphique : %(title)s. Les chiffres sont dans le tableau qui suit.", title=TITLES[table.key])
    return _drawn_chart(line, tuple(str(row[0]) for row in rows),
                        tuple(row[-1] if table.key == "mois" else row[1] for row in rows),
                        str(COLUMNS.get(table.columns[-1], table.columns[-1])) if table.key == "mois" else "", label)


@functools.lru_cache(maxsize=512)
def _drawn_chart(line: bool, labels: tuple[str, ...], values: tuple[int, ...], series: str, label: str) -> Markup:
    """Drawn once per distinct chart (pygal takes about 8 ms a chart): the same figures are redrawn from memory."""
    kind = pygal.Line if line else pygal.HorizontalBar
    chart = kind(style=CHART_STYLE, js=[], disable_xml_declaration=True, show_legend=False, height=320,
                 width=800, print_values=not line, x_label_rotation=30 if line else 0)
    chart.x_labels = list(labels)
    chart.add(series, list(values))
    svg = chart.render(is_unicode=True)
    # No script in the page (strict CSP): pygal's tooltip configuration is dropped.
    svg = re.sub(r"<script.*?</script>", "", svg, flags=re.DOTALL)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" focusable="false" ', 1)
    return Markup(svg)  # noqa: S704 (pygal's own SVG, built from our figures, labels escaped by pygal)


@bp.route("/")
@permission("statistics", "view")
def dashboard():
    form, board, status = _dashboard()
    return render_template("statistics/dashboard.html", form=form, board=board, titles=TITLES, columns=COLUMNS,
                           charts={t.key: chart_svg(t) for t in board.tables if t.chart and t.rows},
                           query=request.args.to_dict()), status


@bp.route("/<key>.csv")
@permission("export", "statistics")
def table_csv(key: str):
    if key not in TITLES and key != "synthese":
        abort(404)
    form, board, status = _dashboard()
    if status != 200:
        abort(400)
    if key == "synthese":
        rows = [[_("Indicateur"), _("Valeur")], *([name, value] for name, value in summary_rows(board))]
    else:
        table = board.table(key)
        rows = [[str(COLUMNS.get(c, c)) for c in table.columns], *table.rows]
    response = Response(csv_file(rows), content_type="text/csv; charset=utf-8")
    run(lambda: audit.record_read(db.session, "statistics_export", audit.scope_text({"tableau": key, **request.args}),
                                  len(rows) - 1))  # #21
    response.headers["Content-Disposition"] = (
        f'attachment; filename="relais-{key}-{board.period.start.isoformat()}-{board.period.end.isoformat()}.csv"')
    return response


def summary_rows(board: Dashboard) -> list[tuple[str, object]]:
    s = board.summary
    return [(_("Demandes reçues"), s["requests"]), (_("Interventions programmées"), s["planned"]),
            (_("Interventions réalisées"), s["given"]), (_("Interventions non tenues"), s["not_held"]),
            (_("Interventions annulées"), s["cancelled"]), (_("Personnes touchées"), s["people"]),
            (_("Part des demandes servies (%)"), s["served_share"]),
            (_("Délai médian de la demande à la confirmation (jours)"), s["median_delay_days"]),
            (_("Satisfaction moyenne (sur 5)"), s["feedback"])]


@bp.app_context_processor
def _summary_rows() -> dict:
    return {"summary_rows": summary_rows}
