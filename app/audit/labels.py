"""The trail in French: what each table and column is called, and an entry told as a sentence (« Marie Dupont a
modifié la salle : B12 → C3 »)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.domain import audit
from app.domain.vocabulary import audience_label, stored_text, topic_label
from app.formatting import moment_text
from app.labels import INTERVENTION_STATUS, REQUEST_STATUS
from app.models import AuditEntry, InterventionStatus, RequestStatus
from app.models.group_labels import GroupLabel

OBJECTS = {
    "intervention_request": _l("la demande"), "request_window": _l("une période souhaitée"),
    "intervention": _l("l'intervention"), "assignment": _l("la proposition"), "session_report": _l("le compte rendu"),
    "report_correction": _l("une correction de compte rendu"), "feedback": _l("l'avis"), "trainer": _l("le formateur"),
    "availability_pattern": _l("les disponibilités"), "availability_exception": _l("une période d'absence"),
    "unit": _l("l'unité"), "establishment": _l("l'établissement"), "join_request": _l("une demande de rattachement"),
    "user_account": _l("le compte"), "coordinator_scope": _l("un territoire de coordination"),
    "autopilot_setting": _l("le réglage du pilote automatique"), "coordination_office": _l("l'adresse de coordination"),
    "caldav_connection": _l("l'agenda CalDAV"), "calendar_feed": _l("l'abonnement d'agenda"),
    "commune_competence": _l("la compétence d'une commune"), "departement": _l("le département"),
    "topic": _l("le thème"), "audience": _l("le public"), "access_token": _l("un jeton d'accès"),
    "webhook_subscription": _l("un abonnement webhook"), "retention_setting": _l("un réglage de conservation"),
    "sign_in_settings": _l("les réglages de connexion"),
}
READS = {
    "roster": _l("la liste des formateurs"), "trainers_export": _l("l'export des formateurs"),
    "sessions_export": _l("l'export des interventions avec contacts"), "trainer_record": _l("la fiche d'un formateur"),
    "statistics_export": _l("l'export des statistiques"), "audit_trail": _l("le journal d'audit"),
}
COLUMNS = {
    "status": _l("l'état"), "room": _l("la salle"), "starts_at": _l("le début"), "ends_at": _l("la fin"),
    "full_name": _l("le nom"), "email": _l("l'adresse e-mail"), "phone": _l("le téléphone"), "role": _l("le rôle"),
    "active": _l("l'activité du compte"), "password_hash": _l("le mot de passe"), "name": _l("le nom"),
    "cancel_reason": _l("le motif d'annulation"), "refusal_reason": _l("le motif de refus"),
    "decline_reason": _l("le motif du refus"), "contact_name": _l("le contact"),
    "contact_email": _l("l'e-mail du contact"),
    "contact_phone": _l("le téléphone du contact"), "group_count": _l("le nombre de groupes"),
    "people_per_group": _l("l'effectif par groupe"), "people_present": _l("les présents"), "held": _l("la tenue"),
    "notes": _l("les remarques"), "remarks": _l("les remarques"), "comment": _l("le commentaire"),
    "satisfaction": _l("la satisfaction"), "trainer_id": _l("le formateur"), "unit_id": _l("l'unité"),
    "establishment_id": _l("l'établissement"), "departement_code": _l("le département"), "force": _l("la force"),
    "mode": _l("le mode"), "place": _l("le lieu"), "equipment": _l("l'équipement"), "language": _l("la langue"),
    "topics": _l("les thèmes"), "audiences": _l("les publics"), "matricule": _l("le matricule"),
    "max_distance_km": _l("la distance maximale"), "weekday": _l("le jour"), "start_time": _l("l'heure de début"),
    "end_time": _l("l'heure de fin"), "kind": _l("le type"), "reason": _l("le motif"), "message": _l("le message"),
    "confirmed_at": _l("la confirmation"), "address": _l("l'adresse"), "uai": _l("l'UAI"),
    "last_login_at": _l("la dernière connexion"), "activated_at": _l("l'activation"),
    "totp_last_step": _l("le dernier code de double authentification"),
    "totp_secret": _l("la clé de double authentification"), "totp_confirmed_at": _l("la double authentification"),
    "created_at": _l("la création"), "updated_at": _l("la dernière modification"),
    "submitted_at": _l("l'envoi"), "accepted_at": _l("l'acceptation"), "decided_at": _l("la décision"),
    "offered_at": _l("la proposition"), "answered_at": _l("la réponse"), "expires_at": _l("l'échéance"),
    "deactivated_at": _l("la désactivation"), "departed_on": _l("le départ"), "anonymised_at": _l("l'anonymisation"),
    "last_used_at": _l("la dernière utilisation"), "revoked_at": _l("la révocation"), "paused_at": _l("la pause"),
    "planned_at": _l("la dernière planification"), "planned_inputs": _l("les données de la dernière planification"),
    "inputs_read_through": _l("la dernière lecture des données de planification"),
    # What a statement over many rows says (app.domain.audit)
    "lignes": _l("lignes"), "toutes les lignes": _l("toutes les lignes"), "parmi": _l("parmi les numéros"),
}
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")
ACTIONS = {"create": _l("Création"), "update": _l("Modification"), "delete": _l("Suppression"),
           "read": _l("Lecture en masse")}
EMPTY = _l("(vide)")


def object_label(object_type: str) -> str:
    return str(OBJECTS.get(object_type) or READS.get(object_type) or object_type)


def column_label(column: str) -> str:
    return str(COLUMNS.get(column) or column.replace("_", " "))


def value_text(value) -> str:
    if value is None or value == "":
        return str(EMPTY)
    if value is True:
        return _("oui")
    if value is False:
        return _("non")
    if isinstance(value, list):
        return ", ".join(value_text(item) for item in value)
    if isinstance(value, str) and ISO_MOMENT.fullmatch(value):  # a date and time as stored: as people write it
        moment = datetime.fromisoformat(value)
        return moment_text(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    # Texts Relais stores in French (« Groupe 2 », « Contact anonymisé »…) in the reader's language; others as written.
    return str(GroupLabel(str(stored_text(value)))) if isinstance(value, str) else str(value)


# Lists of reference codes (a trainer's or a request's topics and publics): their labels in the reader's language.
REFERENCE_LABELS = {"topics": topic_label, "audiences": audience_label}


def related_text(column: str, codes: list) -> str:
    label = REFERENCE_LABELS.get(column)
    return ", ".join(label(code) for code in codes) if label else value_text(codes)


STATUSES = {"intervention_request": (RequestStatus, REQUEST_STATUS),
            "intervention": (InterventionStatus, INTERVENTION_STATUS)}


def column_value(object_type: str, column: str, value) -> str:
    """A value as people read it: a request's or a session's status by its label."""
    if column == "status" and object_type in STATUSES and isinstance(value, str):
        kind, labels = STATUSES[object_type]
        try:
            return str(labels[kind(value)][0])
        except (ValueError, KeyError):
            pass
    return value_text(value)


def author_text(entry: AuditEntry) -> str:
    """The author in the reader's language: Relais's own names are stored in French (app.domain.audit)."""
    name = entry.author_name
    if not name:
        return _("Un visiteur non connecté")
    if entry.author_id is None and name.startswith(audit.RELAIS_NAME):
        if name == audit.RELAIS_NAME:
            return _("Relais")
        if name == audit.DEMO_NAME:
            return _("Relais (données de démonstration)")
        command = re.fullmatch(r"Relais \(commande flask (.+)\)", name)
        if command:
            return _("Relais (commande flask %(name)s)", name=command.group(1))
    return name


@dataclass(frozen=True)
class Told:
    sentence: str
    details: list[str]


def tell(entry: AuditEntry) -> Told:
    """The entry as a sentence and, one line each, what changed."""
    changes = json.loads(entry.changes or "{}")
    author = author_text(entry)
    thing = object_label(entry.object_type)
    number = f" nº {entry.object_id}" if entry.object_id else ""
    if entry.action == "read":
        return Told(_("%(author)s a consulté %(what)s (%(scope)s) : %(count)s ligne(s)", author=author, what=thing,
                      scope=changes.get("portée") or _("tout le périmètre"), count=changes.get("nombre", 0)), [])
    details = []
    for column, change in changes.items():
        if isinstance(change, dict):
            added, removed = change.get("ajout", []), change.get("retrait", [])
            details.append(_("%(column)s : ajout %(added)s, retrait %(removed)s", column=column_label(column),
                             added=related_text(column, added) if added else "—",
                             removed=related_text(column, removed) if removed else "—"))
        elif isinstance(change, list) and len(change) == 2:
            before, after = change
            if entry.action == "update":
                details.append(_("%(column)s : %(before)s → %(after)s", column=column_label(column),
                                 before=column_value(entry.object_type, column, before),
                                 after=column_value(entry.object_type, column, after)))
            else:
                details.append(_("%(column)s : %(value)s", column=column_label(column),
                                 value=column_value(entry.object_type, column,
                                                    after if entry.action == "create" else before)))
        else:
            details.append(_("%(column)s : %(value)s", column=column_label(column), value=value_text(change)))
    if entry.action == "create":
        sentence = _("%(author)s a créé %(what)s%(number)s", author=author, what=thing, number=number)
    elif entry.action == "delete":
        sentence = _("%(author)s a supprimé %(what)s%(number)s", author=author, what=thing, number=number)
    elif len(details) == 1 and entry.action == "update":
        sentence = _("%(author)s a modifié %(detail)s", author=author, detail=details[0])
        details = []
    else:
        sentence = _("%(author)s a modifié %(what)s%(number)s", author=author, what=thing, number=number)
    return Told(sentence, details)
