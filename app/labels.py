"""French labels of statuses, history events and kinds of establishment, shared by the blueprints and available
to every template."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.domain.vocabulary import (
    ESTABLISHMENT_KINDS,
    FORCES,
    audience_label,
    force_label,
    kind_label,
    note_text,
    stored_text,
    topic_label,
)
from app.models import InterventionStatus, RequestStatus

REQUEST_STATUS = {
    RequestStatus.DRAFT: (_l("Brouillon"), "secondary"),
    RequestStatus.SUBMITTED: (_l("Envoyée, en attente d'examen"), "info"),
    RequestStatus.IN_PLANNING: (_l("Acceptée, en cours de planification"), "primary"),
    RequestStatus.REFUSED: (_l("Refusée"), "danger"),
    RequestStatus.SCHEDULED: (_l("Interventions programmées"), "primary"),
    RequestStatus.CONFIRMED: (_l("Interventions confirmées"), "success"),
    RequestStatus.DONE: (_l("Réalisée"), "success"),
    RequestStatus.CANCELLED: (_l("Annulée"), "dark"),
}
INTERVENTION_STATUS = {
    InterventionStatus.TO_SCHEDULE: (_l("À programmer"), "secondary"),
    InterventionStatus.OFFERED: (_l("Formateur sollicité"), "info"),
    InterventionStatus.CONFIRMED: (_l("Confirmée"), "success"),
    InterventionStatus.DONE: (_l("Réalisée"), "success"),
    InterventionStatus.NOT_HELD: (_l("Non tenue"), "warning"),
    InterventionStatus.CANCELLED: (_l("Annulée"), "dark"),
}
# The outbox's states (MessageStatus values): the admin's tabs and table say them the same way.
MESSAGE_STATUS = {
    "pending": _l("En attente"),
    "sending": _l("En cours d'envoi"),
    "sent": _l("Envoyé"),
    "failed": _l("En échec"),
}
EVENTS = {
    "created": _l("Demande créée"),
    "edited": _l("Demande modifiée"),
    "details_changed": _l("Informations pratiques modifiées (lieu, salle, matériel, contact)"),
    "submitted": _l("Demande envoyée à la coordination"),
    "accepted": _l("Demande acceptée : planification en cours"),
    "refused": _l("Demande refusée"),
    "cancelled": _l("Demande annulée"),
    "session_cancelled": _l("Intervention annulée"),
    "force_changed": _l("Force compétente modifiée"),
    "feedback": _l("Avis donné sur une intervention"),
    "offered": _l("Intervention proposée à un formateur"),
    "assigned": _l("Formateur affecté directement"),
    "offer_accepted": _l("Proposition acceptée"),
    "offer_declined": _l("Proposition déclinée"),
    "offer_expired": _l("Proposition expirée sans réponse"),
    "withdrawn": _l("Formateur retiré"),
    "session_confirmed": _l("Intervention confirmée"),
    "needs_attention": _l("Intervention à reprendre par la coordination"),
    "autopilot_unserved": _l("Relais n'a pas pu proposer l'intervention"),
    "rescheduled": _l("Horaire de l'intervention modifié"),
    "report_filed": _l("Compte rendu déposé"),
    "report_reopened": _l("Compte rendu rouvert pour correction"),
    "report_corrected": _l("Compte rendu corrigé par la coordination"),
}
# Events between the coordination and the trainers: not shown to the establishment (who was asked,
# who declined and why stay internal).
INTERNAL_EVENTS = frozenset({"offered", "assigned", "offer_accepted", "offer_declined", "offer_expired", "withdrawn",
                             "needs_attention", "autopilot_unserved", "report_filed", "report_reopened",
                             "report_corrected", "force_changed"})
# Why a session was not held (the codes of app.domain.reports.NOT_HELD_REASONS).
NOT_HELD_REASONS = {
    "establishment_cancelled": _l("Annulée par l'établissement"),
    "audience_absent": _l("Public absent (sortie, examen, classe libérée…)"),
    "trainer_prevented": _l("Formateur empêché (mission, maladie…)"),
    "premises_closed": _l("Établissement fermé ou accès impossible"),
    "event": _l("Grève, intempéries ou autre événement"),
    "other": _l("Autre motif"),
}

# The reference data's labels (topics, audiences, forces, kinds of establishment) live in app.domain.vocabulary.
KIND_LABELS = ESTABLISHMENT_KINDS


_TRANSLATED: dict[str, dict] = {}


def template_globals() -> dict:
    """The labels in the language of the render, translated once per language and process: a lazy string
    looks its catalogue up again each time it is shown (a list of fifty requests shows a hundred)."""
    language = str(get_locale())
    if language not in _TRANSLATED:
        _TRANSLATED[language] = {
            "REQUEST_STATUS": {key: (str(label), tone) for key, (label, tone) in REQUEST_STATUS.items()},
            "INTERVENTION_STATUS": {key: (str(label), tone) for key, (label, tone) in INTERVENTION_STATUS.items()},
            "REQUEST_EVENTS": {key: str(label) for key, label in EVENTS.items()},
            "FORCE_LABELS": {key: str(label) for key, label in FORCES.items()},
            "INTERNAL_EVENTS": INTERNAL_EVENTS,
            "MESSAGE_STATUS": {key: str(label) for key, label in MESSAGE_STATUS.items()},
            "KIND_LABELS": {str(key): str(label) for key, label in ESTABLISHMENT_KINDS.items()},
            "topic_label": topic_label,
            "audience_label": audience_label,
            "force_label": force_label,
            "kind_label": kind_label,
            "stored_text": stored_text,
            "note_text": note_text,
            "NOT_HELD_REASONS": {key: str(label) for key, label in NOT_HELD_REASONS.items()},
        }
    return _TRANSLATED[language]
