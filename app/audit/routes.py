"""The trail's pages: `/admin/journal` (admins: search by person, object, action and period; export CSV/XLSX, itself
recorded as a read in bulk) and « Historique » of a request, a session or a trainer (the coordination of its
territory, through the policies: 404 elsewhere)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.access import load, permission
from app.audit import bp
from app.audit.labels import ACTIONS, OBJECTS, READS, author_text, object_label, tell
from app.converters import db_id
from app.domain import audit
from app.domain.clock import utcnow
from app.domain.imports.tables import csv_file, xlsx_file
from app.domain.keyset import cut
from app.extensions import db
from app.formatting import PARIS
from app.models import Intervention, InterventionRequest, Trainer
from app.unit_of_work import run

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # rows of one export: a narrower period beyond
FILTER_NAMES = ("personne", "auteur", "objet", "numero", "action", "du", "au")


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


def _filters() -> tuple[audit.Filters, dict[str, str]]:
    """The filters of the address, and those kept in the links (the valid ones)."""
    paris = ZoneInfo(PARIS)
    start, end = _day("du"), _day("au")
    object_type = request.args.get("objet", "")
    action = request.args.get("action", "")
    filters = audit.Filters(
        person=request.args.get("personne", "").strip()[:100],
        author_id=request.args.get("auteur", type=db_id),
        object_type=object_type if object_type in OBJECTS or object_type in READS else "",
        object_id=request.args.get("numero", "").strip()[:64],
        action=action if action in ACTIONS else "",
        start=datetime.combine(start, time(), paris) if start else None,
        end=datetime.combine(end + timedelta(days=1), time(), paris) if end else None)
    kept = {"personne": filters.person, "auteur": filters.author_id, "objet": filters.object_type,
            "numero": filters.object_id, "action": filters.action,
            "du": start.isoformat() if start else "", "au": end.isoformat() if end else ""}
    return filters, {name: value for name, value in kept.items() if value}


@bp.route("/admin/journal")
@permission("audit", "search")
def journal():
    filters, kept = _filters()
    before = request.args.get("avant", type=db_id)
    query = audit.search(filters)
    if before:
        query = query.where(audit.AuditEntry.id < before)  # the latest first, a page at a time (keyset on the id)
    entries, next_before = cut(db.session.scalars(query.limit(PAGE_SIZE + 1)).all(), PAGE_SIZE, lambda e: e.id)
    return render_template(
        "audit/journal.html", rows=[(entry, tell(entry)) for entry in entries], kept=kept,
        OBJECTS={**OBJECTS, **READS},
        ACTIONS=ACTIONS, object_label=object_label,
        next_url=url_for("audit.journal", avant=next_before, **kept) if next_before else None,
        first_url=url_for("audit.journal", **kept) if before else None)


@bp.route("/admin/journal/export")
@permission("audit", "export")
def export():
    kind = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    filters, kept = _filters()
    entries = db.session.scalars(audit.search(filters).limit(EXPORT_LIMIT)).all()
    paris = ZoneInfo(PARIS)
    rows = [[_("Numéro"), _("Date"), _("Auteur"), _("Nº de l'auteur"), _("Adresse"), _("Jeton d'accès"), _("Action"),
             _("Objet"), _("Nº de l'objet"), _("Modifications"), _("Hash précédent"), _("Hash")]]
    rows += [[entry.id, entry.at.astimezone(paris).replace(tzinfo=None), author_text(entry), entry.author_id,
              entry.address, entry.token_id, str(ACTIONS.get(entry.action, entry.action)),
              object_label(entry.object_type), entry.object_id, entry.changes, entry.previous_hash, entry.hash]
             for entry in entries]
    run(lambda: audit.record_read(db.session, "audit_trail", audit.scope_text(kept), len(entries)))
    stamp = utcnow().date().isoformat()
    if kind == "xlsx":
        return Response(xlsx_file(rows, sheet=_("Journal")),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="journal-{stamp}.xlsx"'})
    return Response(csv_file(rows), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="journal-{stamp}.csv"'})


def _history_page(title: str, back_url: str, objects: dict[str, list], endpoint: str, **arguments):
    before = request.args.get("avant", type=db_id)
    query = audit.history(objects)
    if before:
        query = query.where(audit.AuditEntry.id < before)
    entries, next_before = cut(db.session.scalars(query.limit(PAGE_SIZE + 1)).all(), PAGE_SIZE, lambda e: e.id)
    return render_template(
        "audit/history.html", title=title, back_url=back_url, rows=[(entry, tell(entry)) for entry in entries],
        next_url=url_for(endpoint, avant=next_before, **arguments) if next_before else None,
        first_url=url_for(endpoint, **arguments) if before else None)


@bp.route("/historique/demande/<int:request_id>")
@permission("audit", "history")
def request_history(request_id: int):
    item: InterventionRequest = load("request", request_id, "view", options=[
        selectinload(InterventionRequest.interventions).selectinload(Intervention.assignments),
        selectinload(InterventionRequest.windows)])
    sessions = item.interventions
    return _history_page(
        _("Historique de la demande nº %(id)s", id=item.id), url_for("coordination.show", request_id=item.id),
        {"intervention_request": [item.id], "request_window": [w.id for w in item.windows],
         "intervention": [s.id for s in sessions], "assignment": [a.id for s in sessions for a in s.assignments]},
        "audit.request_history", request_id=request_id)


@bp.route("/historique/intervention/<int:intervention_id>")
@permission("audit", "history")
def session_history(intervention_id: int):
    session: Intervention = load("session", intervention_id, "view",
                                 options=[selectinload(Intervention.assignments), selectinload(Intervention.reports)])
    return _history_page(
        _("Historique de l'intervention nº %(id)s", id=session.id),
        url_for("coordination.show", request_id=session.request_id),
        {"intervention": [session.id], "assignment": [a.id for a in session.assignments],
         "session_report": [r.id for r in session.reports]},
        "audit.session_history", intervention_id=intervention_id)


@bp.route("/historique/formateur/<int:trainer_id>")
@permission("audit", "history")
def trainer_history(trainer_id: int):
    trainer: Trainer = load("trainer", trainer_id, "view")
    return _history_page(
        _("Historique de %(name)s", name=trainer.full_name), url_for("trainers.detail", trainer_id=trainer.id),
        {"trainer": [trainer.id], "trainer_record": [trainer.id], "user_account": [trainer.user_id]},
        "audit.trainer_history", trainer_id=trainer_id)
