"""The views of /api/v1: thin, like the pages' — the token's person, the same policies (`api_permission`, `load`,
`POLICY.rows`), the same domain functions through the unit of work; refusals become problem details."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Response, current_app, g, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import NotFound

from app.api import schemas
from app.api.auth import api_permission, current, load
from app.api.problems import PROBLEM_TYPE, problem, refusal_problem
from app.domain import lifecycle, offers, reports
from app.domain.clock import utcnow
from app.domain.keyset import cut
from app.domain.policies import REQUESTS, SESSIONS, TRAINERS
from app.domain.refusals import Refused
from app.domain.request_rules import RequestInput, WindowInput
from app.domain.requests import RequestDetails, save_request
from app.domain.statistics import Period, build_dashboard, school_year
from app.extensions import db
from app.invitations import event_calendar
from app.models import (
    Assignment,
    Establishment,
    Intervention,
    InterventionRequest,
    Role,
    SessionReport,
    Trainer,
    User,
)
from app.unit_of_work import run

blp = Blueprint("api", __name__, url_prefix="/api/v1",
                description="L'API JSON de Relais, version 1 : un jeton d'accès personnel par programme.")

PROBLEM_CODES = {
    401: "Jeton absent, invalide, expiré ou révoqué.",
    403: "Le rôle de la personne ne permet pas cette action, ou le jeton est en lecture seule.",
    404: "Inexistant, ou hors du périmètre de la personne.",
    409: "Refusé par les règles dans l'état actuel (message en français ou en anglais selon Accept-Language).",
    422: "Données invalides : chaque champ refusé est nommé dans `errors`.",
    429: "Trop de requêtes pour ce jeton : réessayez après le délai de l'en-tête Retry-After.",
}


def problems(*codes: int) -> Callable:
    """Documents the problem details a view may answer (401 and 429 for every view)."""
    def decorator(view: Callable) -> Callable:
        for code in sorted({401, 429, *codes}, reverse=True):
            view = blp.alt_response(code, schema=schemas.Problem, content_type=PROBLEM_TYPE,
                                    description=PROBLEM_CODES[code])(view)
        return view
    return decorator


# -- helpers ------------------------------------------------------------------------------------------------


def keyset_page(query: Select, args: dict, key_column, key: Callable = lambda row: row.id):
    """A page by key (`after`: the last id shown), `limit + 1` rows read; and the key of the next page."""
    if args.get("after"):
        query = query.where(key_column > args["after"])
    found = db.session.scalars(query.order_by(key_column).limit(args["limit"] + 1)).unique().all()
    return cut(found, args["limit"], key)


def listing(items: list, next_after: int | None, endpoint: str, args: dict):
    """The body of a list and its Link header (rel="next")."""
    query = {name: value.isoformat() if isinstance(value, date) else value
             for name, value in args.items() if value is not None and name != "after"}
    next_url = url_for(endpoint, after=next_after, **query) if next_after else None
    g.api_count = len(items)  # the audit trail's count of this read
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    return {"items": items, "next": next_url}, 200, headers


def language() -> str:
    return "en" if str(get_locale() or "fr") == "en" else "fr"


def perform(operation: Callable):
    """Runs the operation through the unit of work; a refusal becomes problem details (raised as a response)."""
    outcome = run(operation)
    if not outcome.ok:
        raise Answer(refusal_problem(outcome.refusal))
    return outcome.value


class Answer(Exception):  # noqa: N818 (carries an answer, like werkzeug's HTTPException)
    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


@blp.errorhandler(Answer)
def _answer(error: Answer) -> Response:
    return error.response


# -- establishment -----------------------------------------------------------------------------------------


def establishment_doc(item: Establishment) -> dict:
    return {"id": item.id, "name": item.name, "kind": item.kind.value, "uai": item.uai, "address": item.address,
            "postcode": item.postcode, "commune_name": item.commune_name, "departement_code": item.departement_code,
            "force": item.force.value if item.force else None, "confirmed": item.confirmed_at is not None}


@blp.route("/establishment", tags=["Établissement"])
@api_permission("establishment", "view")
@blp.response(200, schemas.EstablishmentOut)
@problems(403, 404)
def establishment():
    """Mon établissement

    L'établissement de la personne (personnel d'un établissement) : 404 tant qu'elle n'en a pas."""
    user = current()
    if user.establishment_id is None:
        raise NotFound()
    return establishment_doc(load("establishment", user.establishment_id, "view"))


# -- requests ----------------------------------------------------------------------------------------------


def request_doc(item: InterventionRequest) -> dict:
    return {
        "id": item.id, "status": item.status.value, "establishment_id": item.establishment_id,
        "departement_code": item.departement_code, "force": item.force.value if item.force else None,
        "audiences": [a.code for a in item.audiences], "topics": [t.code for t in item.topics],
        "group_count": item.group_count, "people_per_group": item.people_per_group,
        "duration_minutes": item.duration_minutes,
        "windows": [{"start_date": w.start_date, "end_date": w.end_date, "start_time": w.start_time,
                     "end_time": w.end_time} for w in item.windows],
        "place": item.place, "room": item.room, "equipment": item.equipment, "contact_name": item.contact_name,
        "contact_phone": item.contact_phone, "contact_email": item.contact_email, "notes": item.notes,
        "wants_two_trainers": item.wants_two_trainers, "session_ids": [i.id for i in item.interventions],
        "created_at": item.created_at, "updated_at": item.updated_at}


REQUEST_LOADS = (selectinload(InterventionRequest.audiences), selectinload(InterventionRequest.topics),
                 selectinload(InterventionRequest.windows), selectinload(InterventionRequest.interventions))


@blp.route("/requests", tags=["Demandes"])
@api_permission("request", "list")
@blp.arguments(schemas.RequestFilter, location="query")
@blp.response(200, schemas.page_of(schemas.RequestOut, "RequestPage"))
@problems(403, 422)
def list_requests(args):
    """Demandes

    Les demandes que la personne voit (celles de son établissement ; celles de son territoire pour la
    coordination), par identifiant croissant, filtrées par état."""
    query = select(InterventionRequest).where(REQUESTS.rows(current())).options(*REQUEST_LOADS)
    if args["status"]:
        query = query.where(InterventionRequest.status == args["status"])
    shown, next_after = keyset_page(query, args, InterventionRequest.id)
    return listing([request_doc(item) for item in shown], next_after, "api.list_requests", args)


@blp.route("/requests/<int:request_id>", tags=["Demandes"])
@api_permission("request", "view")
@blp.response(200, schemas.RequestOut)
@problems(403, 404)
def get_request(request_id: int):
    """Une demande"""
    return request_doc(load("request", request_id, "view", REQUEST_LOADS))


def _request_input(data: dict) -> tuple[RequestInput, RequestDetails]:
    windows = [WindowInput(w["start_date"], w["end_date"], w["start_time"], w["end_time"]) for w in data["windows"]]
    given = RequestInput(audience_codes=data["audiences"], topic_codes=data["topics"], group_count=data["group_count"],
                         people_per_group=data["people_per_group"], duration_minutes=data["duration_minutes"],
                         windows=windows)
    details = RequestDetails(place=data["place"], room=data["room"], equipment=data["equipment"],
                             contact_name=data["contact_name"], contact_phone=data["contact_phone"],
                             contact_email=data["contact_email"], notes=data["notes"],
                             wants_two_trainers=data["wants_two_trainers"])
    return given, details


def _save(data: dict, existing: InterventionRequest | None) -> InterventionRequest:
    user = current()
    establishment = user.establishment
    if establishment is None:
        raise Answer(problem(409, _("Inscrivez d'abord votre établissement, ou demandez à rejoindre celui de vos "
                                    "collègues."), code="no_establishment"))
    given, details = _request_input(data)
    saved = perform(lambda: save_request(
        db.session, establishment, user, given, details, existing, send=data["send"], now=utcnow(),
        min_notice_days=current_app.config["RELAIS_MIN_NOTICE_DAYS"], language=language()))
    return saved.request


@blp.route("/requests", methods=["POST"], tags=["Demandes"])
@api_permission("request", "create", write=True)
@blp.arguments(schemas.RequestIn)
@blp.response(201, schemas.RequestOut)
@problems(403, 409, 422)
def create_request(data):
    """Nouvelle demande

    Crée une demande de l'établissement de la personne ; avec `send`, l'envoie à la coordination. Les règles sont
    celles du formulaire : chaque erreur nomme son champ (`windows.0.start_date` pour la première période)."""
    saved = _save(data, None)
    return request_doc(load("request", saved.id, "view", REQUEST_LOADS))


@blp.route("/requests/<int:request_id>", methods=["PUT"], tags=["Demandes"])
@api_permission("request", "edit", write=True)
@blp.arguments(schemas.RequestIn)
@blp.response(200, schemas.RequestOut)
@problems(403, 404, 409, 422)
def edit_request(data, request_id: int):
    """Modifier une demande

    Remplace le contenu d'une demande, tant qu'elle n'est pas planifiée (brouillon ou envoyée)."""
    item = load("request", request_id, "edit", REQUEST_LOADS)
    if item.status not in lifecycle.EDITABLE:
        raise Answer(refusal_problem(Refused("request_not_editable")))
    _save(data, item)
    db.session.expire_all()
    return request_doc(load("request", request_id, "view", REQUEST_LOADS))


@blp.route("/requests/<int:request_id>/cancel", methods=["POST"], tags=["Demandes"])
@api_permission("request", "cancel", write=True)
@blp.arguments(schemas.ReasonIn)
@blp.response(200, schemas.RequestOut)
@problems(403, 404, 409, 422)
def cancel_request(data, request_id: int):
    """Annuler une demande

    Annule la demande et ses interventions à venir ; le motif est transmis aux personnes concernées."""
    item = load("request", request_id, "cancel")
    user = current()
    perform(lambda: lifecycle.cancel_request(db.session, item, user, data["reason"].strip(), utcnow()))
    db.session.expire_all()
    return request_doc(load("request", request_id, "view", REQUEST_LOADS))


# -- sessions ----------------------------------------------------------------------------------------------


def session_doc(item: Intervention) -> dict:
    return {"id": item.id, "request_id": item.request_id, "group_label": str(item.group_label),
            "status": item.status.value, "starts_at": item.starts_at, "ends_at": item.ends_at,
            "departement_code": item.departement_code, "force": item.force.value if item.force else None,
            "trainers_needed": item.trainers_needed,
            "trainers": [{"trainer_id": a.trainer_id, "name": a.trainer.user.full_name, "status": a.status.value}
                         for a in item.assignments]}


SESSION_LOADS = (selectinload(Intervention.assignments).joinedload(Assignment.trainer).joinedload(Trainer.user),)


@blp.route("/sessions", tags=["Interventions"])
@api_permission("session", "view")
@blp.arguments(schemas.SessionFilter, location="query")
@blp.response(200, schemas.page_of(schemas.SessionOut, "SessionPage"))
@problems(422)
def list_sessions(args):
    """Interventions

    Les interventions que la personne voit : celles de son établissement, celles qu'on lui a confiées, celles de
    son territoire."""
    query = select(Intervention).where(SESSIONS.rows(current())).options(*SESSION_LOADS)
    if args["status"]:
        query = query.where(Intervention.status == args["status"])
    shown, next_after = keyset_page(query, args, Intervention.id)
    return listing([session_doc(item) for item in shown], next_after, "api.list_sessions", args)


@blp.route("/sessions/<int:session_id>", tags=["Interventions"])
@api_permission("session", "view")
@blp.response(200, schemas.SessionOut)
@problems(404)
def get_session(session_id: int):
    """Une intervention"""
    return session_doc(load("session", session_id, "view", SESSION_LOADS))


@blp.route("/sessions/<int:session_id>/invitation.ics", tags=["Interventions"])
@api_permission("session", "view")
@blp.response(200, content_type="text/calendar", description="L'intervention au format iCalendar (RFC 5545).")
@problems(404)
def session_ics(session_id: int):
    """Invitation .ics d'une intervention

    L'intervention seule, à ajouter à un agenda, dans la version que la personne voit (établissement, formateur ou
    coordination) ; 404 tant qu'elle n'a pas d'horaire."""
    from app.domain.calendar import COORDINATION, ESTABLISHMENT, TRAINER

    intervention = load("session", session_id, "view")
    if intervention.starts_at is None:
        raise NotFound()
    role = current().role
    variant = (COORDINATION if role in (Role.COORDINATOR, Role.ADMIN)
               else ESTABLISHMENT if role is Role.REQUESTER else TRAINER)
    response = Response(event_calendar(intervention, variant), content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="intervention-{intervention.id}.ics"'
    return response


# -- offers ------------------------------------------------------------------------------------------------


def offer_doc(assignment: Assignment) -> dict:
    intervention = assignment.intervention
    establishment = intervention.request.establishment
    return {"id": assignment.id, "session_id": assignment.intervention_id, "status": assignment.status.value,
            "starts_at": intervention.starts_at, "ends_at": intervention.ends_at, "expires_at": assignment.expires_at,
            "establishment": establishment.name, "commune": establishment.commune_name}


def _own_trainer() -> Trainer:
    trainer = db.session.scalar(select(Trainer).where(Trainer.user_id == current().id))
    if trainer is None:
        raise NotFound()
    return trainer


@blp.route("/offers", tags=["Propositions"])
@api_permission("assignment", "answer")
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.page_of(schemas.OfferOut, "OfferPage"))
@problems(403, 404, 422)
def list_offers(args):
    """Mes propositions

    Les propositions ouvertes du formateur, la plus proche d'abord (pagination par clé sur la date de
    l'intervention, puis l'identifiant)."""
    shown, next_after = offers.pending_offers(db.session, _own_trainer().id, utcnow(), after=args["after"],
                                              limit=args["limit"])
    return listing([offer_doc(a) for a in shown], next_after, "api.list_offers", args)


def _answered(assignment_id: int) -> dict:
    db.session.expire_all()
    return offer_doc(load("assignment", assignment_id, "answer"))


@blp.route("/offers/<int:offer_id>/accept", methods=["POST"], tags=["Propositions"])
@api_permission("assignment", "answer", write=True)
@blp.response(200, schemas.OfferOut)
@problems(403, 404, 409)
def accept_offer(offer_id: int):
    """Accepter une proposition"""
    assignment = load("assignment", offer_id, "answer")
    perform(lambda: offers.accept_offer(db.session, assignment, utcnow()))
    return _answered(offer_id)


@blp.route("/offers/<int:offer_id>/decline", methods=["POST"], tags=["Propositions"])
@api_permission("assignment", "answer", write=True)
@blp.arguments(schemas.DeclineIn)
@blp.response(200, schemas.OfferOut)
@problems(403, 404, 409, 422)
def decline_offer(data, offer_id: int):
    """Décliner une proposition

    La coordination est prévenue ; l'intervention passe au candidat suivant."""
    assignment = load("assignment", offer_id, "answer")
    settings = offers.OfferSettings.from_config(current_app.config)
    perform(lambda: offers.decline_offer(db.session, assignment, data["reason"].strip(), utcnow(), settings))
    return _answered(offer_id)


# -- trainers ----------------------------------------------------------------------------------------------


def trainer_doc(trainer: Trainer) -> dict:
    return {"id": trainer.id, "name": trainer.user.full_name, "force": trainer.force.value,
            "departements": [d.code for d in trainer.departements], "unit_id": trainer.unit_id,
            "active": trainer.active}


TRAINER_LOADS = (joinedload(Trainer.user), selectinload(Trainer.departements))


@blp.route("/trainers", tags=["Formateurs"])
@api_permission("trainer", "list")
@blp.arguments(schemas.TrainerFilter, location="query")
@blp.response(200, schemas.page_of(schemas.TrainerOut, "TrainerPage"))
@problems(403, 422)
def list_trainers(args):
    """Formateurs

    Les formateurs du territoire de la coordination (lecture seule)."""
    query = select(Trainer).where(TRAINERS.rows(current())).options(*TRAINER_LOADS)
    if args["force"]:
        query = query.where(Trainer.force == args["force"])
    shown, next_after = keyset_page(query, args, Trainer.id)
    return listing([trainer_doc(t) for t in shown], next_after, "api.list_trainers", args)


@blp.route("/trainers/<int:trainer_id>", tags=["Formateurs"])
@api_permission("trainer", "view")
@blp.response(200, schemas.TrainerOut)
@problems(403, 404)
def get_trainer(trainer_id: int):
    """Un formateur"""
    return trainer_doc(load("trainer", trainer_id, "view", TRAINER_LOADS))


# -- reports -----------------------------------------------------------------------------------------------


def report_doc(report: SessionReport) -> dict:
    return {"id": report.id, "session_id": report.intervention_id, "trainer_id": report.trainer_id,
            "held": report.held, "not_held_code": report.not_held_code, "not_held_reason": report.not_held_reason,
            "people_present": report.people_present, "pupils": report.pupils, "staff": report.staff,
            "parents": report.parents, "topics": [t.code for t in report.topics], "remarks": report.remarks,
            "created_at": report.created_at}


REPORT_LOADS = (selectinload(SessionReport.topics),)


@blp.route("/reports", tags=["Comptes rendus"])
@api_permission("report", "list")
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.page_of(schemas.ReportOut, "ReportPage"))
@problems(403, 422)
def list_reports(args):
    """Comptes rendus

    Les comptes rendus des interventions du territoire de la coordination."""
    # Joined to their session (not `IN (the sessions of the scope)`: the whole country's for an administrator).
    query = (select(SessionReport).join(Intervention, Intervention.id == SessionReport.intervention_id)
             .where(SESSIONS.rows(current())).options(*REPORT_LOADS))
    shown, next_after = keyset_page(query, args, SessionReport.id)
    return listing([report_doc(r) for r in shown], next_after, "api.list_reports", args)


@blp.route("/reports/<int:report_id>", tags=["Comptes rendus"])
@api_permission("report", "view")
@blp.response(200, schemas.ReportOut)
@problems(403, 404)
def get_report(report_id: int):
    """Un compte rendu"""
    return report_doc(load("report", report_id, "view", REPORT_LOADS))


@blp.route("/sessions/<int:session_id>/report", methods=["POST"], tags=["Comptes rendus"])
@api_permission("session", "report", write=True)
@blp.arguments(schemas.ReportIn)
@blp.response(201, schemas.ReportOut)
@problems(403, 404, 409, 422)
def file_report(data, session_id: int):
    """Rendre compte d'une intervention

    Le formateur dit si l'intervention a eu lieu, avec le nombre de personnes présentes ou le motif ; il peut le
    corriger pendant 30 jours (un nouvel envoi remplace le précédent)."""
    trainer = _own_trainer()
    intervention = load("session", session_id, "report")
    user = current()
    report_data = reports.ReportData(
        held=data["held"], not_held_code=data["not_held_code"], not_held_reason=data["not_held_reason"],
        people_present=data["people_present"], pupils=data["pupils"], staff=data["staff"], parents=data["parents"],
        topic_codes=tuple(data["topics"]), remarks=data["remarks"])
    saved = perform(lambda: reports.save_report(db.session, intervention, trainer, report_data, user, utcnow()))
    return report_doc(db.session.get(SessionReport, saved.id, options=list(REPORT_LOADS)))


# -- statistics --------------------------------------------------------------------------------------------


@blp.route("/statistics", tags=["Statistiques"])
@api_permission("statistics", "view")
@blp.arguments(schemas.StatisticsArgs, location="query")
@blp.response(200, schemas.StatisticsOut)
@problems(403, 422)
def statistics(args):
    """Statistiques

    Les tableaux du tableau de bord sur le territoire de la personne, pour l'année scolaire en cours ou la période
    donnée (`date_from` et `date_to` ensemble)."""
    user: User = current()
    period = school_year(utcnow().date())
    if args["date_from"] and args["date_to"]:
        if args["date_from"] > args["date_to"]:
            raise Answer(problem(422, code="validation", errors=[
                {"field": "date_to", "message": _("La fin de la période doit suivre son début.")}]))
        period = Period(args["date_from"], args["date_to"])
    board = build_dashboard(db.session, session_scope=SESSIONS.rows(user), request_scope=REQUESTS.rows(user),
                            trainer_scope=TRAINERS.rows(user), period=period, language=language())
    return {"period": {"start": board.period.start, "end": board.period.end},
            "summary": {key: (float(value) if value is not None else None) for key, value in board.summary.items()},
            "tables": [{"key": t.key, "title": str(t.title), "columns": [str(c) for c in t.columns],
                        "rows": [[_plain(v) for v in row] for row in t.rows]} for t in board.tables]}


def _plain(value):
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)
