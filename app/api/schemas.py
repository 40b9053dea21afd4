"""The API's documents (marshmallow schemas, read by flask-smorest into the OpenAPI document), with French
examples."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.models import AssignmentStatus, Force, InterventionStatus, RequestStatus

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def _values(enum) -> list[str]:
    return [member.value for member in enum]


class Strict(Schema):
    class Meta:
        ordered = True


# -- common ---------------------------------------------------------------------------------------------------


class PageArgs(Strict):
    after = fields.Integer(load_default=None, validate=validate.Range(min=0, max=2**31 - 1),
                           metadata={"description": "Identifiant du dernier élément de la page précédente "
                                                    "(pagination par clé).", "example": 120})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": "Nombre d'éléments par page (200 au plus).", "example": 50})


class Problem(Strict):
    """RFC 9457."""

    type = fields.String(required=True, metadata={"example": "https://relais.example/api/v1/docs#probleme-404"})
    title = fields.String(required=True, metadata={"example": "Introuvable"})
    status = fields.Integer(required=True, metadata={"example": 404})
    detail = fields.String(required=True, metadata={
        "example": "Cette ressource n'existe pas, ou elle est hors de votre périmètre."})
    instance = fields.String(required=True, metadata={"example": "/api/v1/demandes/999"})
    errors = fields.List(fields.Nested(lambda: FieldError()), metadata={"description": "Les champs refusés."})


class FieldError(Strict):
    field = fields.String(allow_none=True, required=True, metadata={"example": "group_count"})
    message = fields.String(required=True, metadata={"example": "Ce champ est obligatoire."})


def page_of(item_schema, name: str):
    """A page of a list: its items and the address of the next page (null on the last)."""
    return type(name, (Strict,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next": fields.String(allow_none=True, required=True, metadata={
            "description": "Adresse de la page suivante (aussi dans l'en-tête Link), null sur la dernière.",
            "example": "/api/v1/demandes?after=120&limit=50"}),
    })


# -- establishments ------------------------------------------------------------------------------------------


class EstablishmentOut(Strict):
    id = fields.Integer(required=True, metadata={"example": 7})
    name = fields.String(required=True, metadata={"example": "Collège Jean Moulin"})
    kind = fields.String(required=True, metadata={"example": "college"})
    uai = fields.String(allow_none=True, required=True, metadata={"example": "0691234A"})
    address = fields.String(required=True, metadata={"example": "12 rue de la République"})
    postcode = fields.String(required=True, metadata={"example": "69003"})
    commune_name = fields.String(required=True, metadata={"example": "Lyon"})
    departement_code = fields.String(required=True, metadata={"example": "69"})
    force = fields.String(allow_none=True, required=True, validate=validate.OneOf(_values(Force)),
                          metadata={"example": "police"})
    confirmed = fields.Boolean(required=True, metadata={"example": True})


# -- requests ------------------------------------------------------------------------------------------------


class WindowSchema(Strict):
    start_date = fields.Date(required=True, metadata={"example": "2027-03-01"})
    end_date = fields.Date(required=True, metadata={"example": "2027-03-12"})
    start_time = fields.Time(required=True, format="%H:%M", metadata={"example": "08:00"})
    end_time = fields.Time(required=True, format="%H:%M", metadata={"example": "12:00"})


class RequestOut(Strict):
    id = fields.Integer(required=True, metadata={"example": 120})
    status = fields.String(required=True, validate=validate.OneOf(_values(RequestStatus)),
                           metadata={"example": "submitted"})
    establishment_id = fields.Integer(required=True, metadata={"example": 7})
    departement_code = fields.String(required=True, metadata={"example": "69"})
    force = fields.String(allow_none=True, required=True, metadata={"example": "police"})
    audiences = fields.List(fields.String(), required=True, metadata={"example": ["4e"]})
    topics = fields.List(fields.String(), required=True, metadata={"example": ["cannabis"]})
    group_count = fields.Integer(required=True, metadata={"example": 2})
    people_per_group = fields.Integer(required=True, metadata={"example": 25})
    duration_minutes = fields.Integer(required=True, metadata={"example": 120})
    windows = fields.List(fields.Nested(WindowSchema), required=True)
    place = fields.String(allow_none=True, required=True, metadata={"example": "Gymnase"})
    room = fields.String(allow_none=True, required=True, metadata={"example": "Salle polyvalente"})
    equipment = fields.String(allow_none=True, required=True, metadata={"example": "Vidéoprojecteur"})
    contact_name = fields.String(required=True, metadata={"example": "Mme Martin"})
    contact_phone = fields.String(required=True, metadata={"example": "04 72 00 00 00"})
    contact_email = fields.String(allow_none=True, required=True, metadata={"example": "cpe@college.example"})
    notes = fields.String(allow_none=True, required=True, metadata={"example": "Entrée par la cour."})
    wants_two_trainers = fields.Boolean(required=True, metadata={"example": False})
    session_ids = fields.List(fields.Integer(), required=True, metadata={"example": [301, 302]})
    created_at = fields.AwareDateTime(required=True, metadata={"example": "2026-12-01T09:30:00+00:00"})
    updated_at = fields.AwareDateTime(required=True, metadata={"example": "2026-12-02T10:00:00+00:00"})


def _text(maximum: int, example: str, **kwargs):
    return fields.String(validate=validate.Length(max=maximum), metadata={"example": example}, **kwargs)


class RequestIn(Strict):
    audiences = fields.List(fields.String(validate=validate.Length(max=40)), required=True,
                            validate=validate.Length(max=30), metadata={"example": ["4e", "3e"]})
    topics = fields.List(fields.String(validate=validate.Length(max=40)), required=True,
                         validate=validate.Length(max=30), metadata={"example": ["cannabis", "alcool"]})
    group_count = fields.Integer(required=True, validate=validate.Range(min=1, max=1000), metadata={"example": 2})
    people_per_group = fields.Integer(required=True, validate=validate.Range(min=1, max=10000),
                                      metadata={"example": 25})
    duration_minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=1440),
                                      metadata={"example": 120})
    windows = fields.List(fields.Nested(WindowSchema), required=True, validate=validate.Length(min=1, max=10))
    place = _text(250, "Gymnase", load_default=None, allow_none=True)
    room = _text(120, "Salle polyvalente", load_default=None, allow_none=True)
    equipment = _text(250, "Vidéoprojecteur", load_default=None, allow_none=True)
    contact_name = _text(120, "Mme Martin", required=True)
    contact_phone = _text(30, "04 72 00 00 00", required=True)
    contact_email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254),
                                 metadata={"example": "cpe@college.example"})
    notes = _text(2000, "Entrée par la cour.", load_default=None, allow_none=True)
    wants_two_trainers = fields.Boolean(load_default=False, metadata={"example": False})
    send = fields.Boolean(load_default=False, metadata={
        "description": "Envoyer la demande à la coordination (sinon, elle reste en brouillon).", "example": True})


class RequestFilter(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(_values(RequestStatus)),
                           metadata={"description": "Seulement les demandes de cet état.", "example": "submitted"})


class ReasonIn(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"example": "Sortie scolaire le même jour."})


# -- sessions and offers -------------------------------------------------------------------------------------


class TrainerOnSession(Strict):
    trainer_id = fields.Integer(required=True, metadata={"example": 12})
    name = fields.String(required=True, metadata={"example": "Brigadier Durand"})
    status = fields.String(required=True, validate=validate.OneOf(_values(AssignmentStatus)),
                           metadata={"example": "accepted"})


class SessionOut(Strict):
    id = fields.Integer(required=True, metadata={"example": 301})
    request_id = fields.Integer(required=True, metadata={"example": 120})
    group_label = fields.String(required=True, metadata={"example": "Groupe 1"})
    status = fields.String(required=True, validate=validate.OneOf(_values(InterventionStatus)),
                           metadata={"example": "confirmed"})
    starts_at = fields.AwareDateTime(allow_none=True, required=True, metadata={"example": "2027-03-02T08:00:00+00:00"})
    ends_at = fields.AwareDateTime(allow_none=True, required=True, metadata={"example": "2027-03-02T10:00:00+00:00"})
    departement_code = fields.String(required=True, metadata={"example": "69"})
    force = fields.String(allow_none=True, required=True, metadata={"example": "police"})
    trainers_needed = fields.Integer(required=True, metadata={"example": 1})
    trainers = fields.List(fields.Nested(TrainerOnSession), required=True)


class SessionFilter(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(_values(InterventionStatus)),
                           metadata={"description": "Seulement les interventions de cet état.",
                                     "example": "confirmed"})


class OfferOut(Strict):
    id = fields.Integer(required=True, metadata={"example": 88})
    session_id = fields.Integer(required=True, metadata={"example": 301})
    status = fields.String(required=True, validate=validate.OneOf(_values(AssignmentStatus)),
                           metadata={"example": "offered"})
    starts_at = fields.AwareDateTime(allow_none=True, required=True, metadata={"example": "2027-03-02T08:00:00+00:00"})
    ends_at = fields.AwareDateTime(allow_none=True, required=True, metadata={"example": "2027-03-02T10:00:00+00:00"})
    expires_at = fields.AwareDateTime(allow_none=True, required=True, metadata={"example": "2026-12-09T18:00:00+00:00"})
    establishment = fields.String(required=True, metadata={"example": "Collège Jean Moulin"})
    commune = fields.String(required=True, metadata={"example": "Lyon"})


class DeclineIn(Strict):
    reason = fields.String(load_default="", validate=validate.Length(max=500),
                           metadata={"example": "En congé cette semaine-là."})


# -- trainers, reports, statistics ---------------------------------------------------------------------------


class TrainerOut(Strict):
    id = fields.Integer(required=True, metadata={"example": 12})
    name = fields.String(required=True, metadata={"example": "Brigadier Durand"})
    force = fields.String(required=True, validate=validate.OneOf(_values(Force)), metadata={"example": "police"})
    departements = fields.List(fields.String(), required=True, metadata={"example": ["69"]})
    unit_id = fields.Integer(required=True, metadata={"example": 3})
    active = fields.Boolean(required=True, metadata={"example": True})


class TrainerFilter(PageArgs):
    force = fields.String(load_default=None, validate=validate.OneOf(_values(Force)),
                          metadata={"example": "gendarmerie"})


class ReportOut(Strict):
    id = fields.Integer(required=True, metadata={"example": 40})
    session_id = fields.Integer(required=True, metadata={"example": 301})
    trainer_id = fields.Integer(required=True, metadata={"example": 12})
    held = fields.Boolean(required=True, metadata={"example": True})
    not_held_code = fields.String(allow_none=True, required=True, metadata={"example": None})
    not_held_reason = fields.String(allow_none=True, required=True, metadata={"example": None})
    people_present = fields.Integer(allow_none=True, required=True, metadata={"example": 24})
    pupils = fields.Integer(allow_none=True, required=True, metadata={"example": 22})
    staff = fields.Integer(allow_none=True, required=True, metadata={"example": 2})
    parents = fields.Integer(allow_none=True, required=True, metadata={"example": 0})
    topics = fields.List(fields.String(), required=True, metadata={"example": ["cannabis"]})
    remarks = fields.String(allow_none=True, required=True, metadata={"example": "Classe attentive."})
    created_at = fields.AwareDateTime(required=True, metadata={"example": "2027-03-02T11:00:00+00:00"})


class ReportIn(Strict):
    held = fields.Boolean(required=True, metadata={"example": True})
    not_held_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30),
                                  metadata={"example": None})
    not_held_reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300),
                                    metadata={"example": None})
    people_present = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100000),
                                    metadata={"example": 24})
    pupils = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100000),
                            metadata={"example": 22})
    staff = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100000),
                           metadata={"example": 2})
    parents = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100000),
                             metadata={"example": 0})
    topics = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                         validate=validate.Length(max=30), metadata={"example": ["cannabis"]})
    remarks = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000),
                            metadata={"example": "Classe attentive."})


class TableOut(Strict):
    key = fields.String(required=True, metadata={"example": "mois"})
    title = fields.String(required=True, metadata={"example": "Interventions par mois"})
    columns = fields.List(fields.String(), required=True, metadata={"example": ["Mois", "Interventions"]})
    rows = fields.List(fields.List(fields.Raw(allow_none=True)), required=True,
                       metadata={"example": [["septembre 2026", 12]]})


class PeriodOut(Strict):
    start = fields.Date(required=True, metadata={"example": "2026-09-01"})
    end = fields.Date(required=True, metadata={"example": "2027-08-31"})


class StatisticsOut(Strict):
    period = fields.Nested(PeriodOut, required=True)
    summary = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True), required=True,
                          metadata={"example": {"sessions_given": 120, "people_reached": 2900}})
    tables = fields.List(fields.Nested(TableOut), required=True)


class StatisticsArgs(Strict):
    date_from = fields.Date(load_default=None, metadata={"example": "2026-09-01"})
    date_to = fields.Date(load_default=None, metadata={"example": "2027-08-31"})
