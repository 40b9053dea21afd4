"""Why a change is refused: one exception with a code, and one table from code to the French message.

Domain functions raise `Refused(code)` when the rules (or a concurrent change) do not allow what was asked;
the unit of work rolls back and shows `message_for(refusal)` to the person (a view may word a code its own
way for its audience). The messages are lazy strings: translated in the language of the page or e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # requests
    "request_not_draft": _l("Cette demande a déjà été envoyée."),
    "request_not_editable": _l("Cette demande est déjà planifiée : elle ne peut plus être modifiée."),
    "request_details_closed": _l("Cette demande est terminée ou annulée : ses informations pratiques ne peuvent "
                                 "plus être modifiées."),
    "request_not_cancellable": _l("Cette demande ne peut plus être annulée."),
    "request_not_submitted": _l("Cette demande n'est plus en attente d'examen."),
    "request_force_missing": _l("Choisissez d'abord la force compétente pour cette demande."),
    "request_force_locked": _l("La force ne peut plus être changée pour cette demande."),
    "request_invalid": _l("La demande n'est pas enregistrée : corrigez les champs signalés."),
    "request_incomplete": _l("La demande ne peut pas être envoyée en l'état : modifiez-la pour corriger les "
                             "erreurs signalées."),
    # sessions
    "session_not_open": _l("Cette intervention ne peut plus être annulée."),
    "session_changed": _l("Cette intervention a changé entre-temps (annulée, confirmée ou déjà pourvue)."),
    "session_full": _l("Tous les formateurs nécessaires ont déjà accepté cette intervention."),
    "start_in_past": _l("Choisissez un moment à venir."),
    "session_past": _l("Cette intervention a commencé ou a déjà eu lieu : ses formateurs et son horaire ne changent "
                       "plus ; le compte rendu dira ce qui s'est passé."),
    # offers
    "time_mismatch": _l("Un autre formateur est déjà sollicité à un autre horaire pour cette intervention."),
    "already_asked": _l("Ce formateur a déjà une proposition en cours pour cette intervention."),
    "trainer_busy": _l("Ce créneau chevauche une intervention déjà acceptée par le formateur."),
    "offer_closed": _l("Cette proposition n'est plus ouverte : elle a expiré, a été retirée ou a déjà reçu une "
                       "réponse."),
    "offer_cap": _l("Ce formateur a déjà reçu aujourd'hui le nombre maximal de propositions."),
    "proposal_changed": _l("Cette proposition a déjà été envoyée ou vient d'être préparée à nouveau : vérifiez "
                           "la proposition à jour."),
    "not_a_candidate": _l("Ce formateur ne remplit plus toutes les règles pour cette intervention."),
    "start_not_offered": _l("Choisissez un horaire parmi ceux proposés."),
    # trainers
    "period_reversed": _l("La fin de la période doit suivre son début."),
    "period_past": _l("Cette période est déjà passée."),
    # reports and feedback
    "report_closed": _l("Ce compte rendu ne peut plus être modifié."),
    "report_incomplete": _l("Compte rendu incomplet : dites si l'intervention a eu lieu, avec le nombre de "
                            "personnes présentes ou le motif."),
    "feedback_closed": _l("Votre avis n'a pas pu être enregistré : il a peut-être déjà été donné."),
    # establishments
    "establishment_exists": _l("Cet établissement est déjà inscrit sur Relais : demandez à le rejoindre avec cet "
                               "identifiant."),
    "establishment_identifier_taken": _l("Un autre établissement est déjà inscrit avec cet identifiant : vérifiez "
                                         "la saisie."),
    "join_decided": _l("Cette demande a déjà été traitée."),
    # units
    "unit_name_taken": _l("Une autre unité porte déjà ce nom : précisez-le (commune, arrondissement…)."),
    "unit_outside_scope": _l("Cette commune n'est pas dans votre périmètre pour cette force : l'unité relève d'une "
                             "autre coordination."),
    "unit_shared_outside": _l("Des formateurs d'une autre coordination partent de cette unité : elle ne peut être "
                              "modifiée qu'avec elle (écrivez à l'administration nationale)."),
    "registration_decided": _l("Cette inscription a déjà été traitée."),
    "establishment_unconfirmed": _l("L'inscription de votre établissement attend la confirmation de la coordination "
                                    "départementale : vous pourrez le faire dès qu'elle l'aura confirmée."),
    # personal access tokens of the API (app/domain/access_tokens.py)
    "token_invalid": _l("Donnez un nom au jeton et une durée de validité permise."),
    "token_closed": _l("Ce jeton est déjà révoqué."),
    # a person's own CalDAV calendar (app/domain/caldav_push.py)
    "caldav_address": _l("Donnez l'adresse complète du serveur, qui commence par https:// (sans identifiant ni mot "
                         "de passe dedans)."),
    "caldav_https": _l("L'adresse doit commencer par https:// : le mot de passe ne doit pas circuler en clair."),
    "caldav_unreachable": _l("Le serveur ne répond pas à cette adresse : vérifiez-la (et qu'il est joignable depuis "
                             "Internet)."),
    "caldav_credentials": _l("Le serveur refuse cet identifiant ou ce mot de passe d'application : vérifiez-les, ou "
                             "créez un nouveau mot de passe d'application."),
    "caldav_no_calendar": _l("Aucun agenda à cette adresse : donnez l'adresse CalDAV de votre agenda (ou de votre "
                             "compte, s'il a au moins un agenda)."),
    "caldav_not_caldav": _l("Cette adresse ne répond pas comme un serveur d'agenda CalDAV : vérifiez-la dans les "
                            "réglages de votre agenda."),
    "caldav_not_invited": _l("Relais n'envoie des interventions qu'aux formateurs et aux établissements : il n'y a "
                             "rien à inscrire dans votre agenda."),
    "caldav_nothing_to_force": _l("Cette intervention n'attend plus de décision : elle a déjà été inscrite ou "
                                  "remplacée."),
    # signed webhooks (app/domain/webhooks.py)
    "webhook_url_invalid": _l("Donnez une adresse complète, qui commence par https:// (sans identifiant ni mot de "
                              "passe dedans, 500 caractères au plus)."),
    "webhook_url_https": _l("L'adresse doit commencer par https:// : les envois ne doivent pas circuler en clair."),
    "webhook_url_unknown_host": _l("Ce nom d'hôte est introuvable : vérifiez l'adresse."),
    "webhook_url_private": _l("Cette adresse mène à un réseau privé ou local : Relais n'envoie qu'à des adresses "
                              "publiques."),
    "webhook_no_event": _l("Choisissez au moins un événement."),
    "webhook_no_owner": _l("Choisissez un territoire de votre périmètre (ou rattachez-vous d'abord à un "
                           "établissement)."),
    "webhook_already_paused": _l("Cet abonnement est déjà en pause."),
    "webhook_not_paused": _l("Cet abonnement n'est pas en pause."),
    "webhook_not_replayable": _l("Cet envoi est déjà en attente : il partira au prochain passage."),
}


class Refused(Exception):  # noqa: N818 (a refusal is an expected outcome, not an error of the program)
    """The rules do not allow this change now; `code` (a key of MESSAGES) says why."""

    def __init__(self, code: str):
        if code not in MESSAGES:
            raise ValueError(f"unknown refusal code: {code}")
        super().__init__(code)
        self.code = code


def message_for(refusal: Refused, wording: Mapping[str, str] | None = None) -> str:
    """The French (or English) sentence for a refusal; `wording` lets a page say it for its own audience."""
    if wording and refusal.code in wording:
        return str(wording[refusal.code])
    return str(MESSAGES[refusal.code])
