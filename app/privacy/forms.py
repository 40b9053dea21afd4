"""Forms of « Mes données » and of the retention periods."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from app.domain.retention import KINDS, LIMITS
from app.forms import DateField, MaxLength, RelaisForm
from app.models.retention import RETENTION_DEFAULTS

# What each period is about, and its unit, as the page names them.
KIND_LABELS = {
    "request_contacts": _l("Coordonnées des contacts sur place et notes des demandes"),
    "feedback_comments": _l("Commentaires des avis des établissements"),
    "unused_accounts": _l("Comptes inutilisés avant désactivation"),
    "unused_accounts_warning": _l("Délai entre l'avertissement et la désactivation d'un compte inutilisé"),
    "departed_trainers": _l("Dossiers des formateurs partis, avant archivage et anonymisation"),
    "audit_trail": _l("Journal des actions (traçabilité)"),
}
KIND_STARTS = {
    "request_contacts": _l("après la dernière intervention de la demande"),
    "feedback_comments": _l("après la dernière intervention de la demande"),
    "unused_accounts": _l("après la dernière connexion"),
    "unused_accounts_warning": _l("après l'e-mail d'avertissement"),
    "departed_trainers": _l("après la date de départ"),
    "audit_trail": _l("après l'action"),
}
UNIT_LABELS = {"years": _l("en années"), "months": _l("en mois"), "days": _l("en jours")}


def _period_field(kind: str) -> IntegerField:
    unit = RETENTION_DEFAULTS[kind][1]
    low, high = LIMITS[unit]
    return IntegerField(
        _l("%(what)s (%(unit)s)", what=KIND_LABELS[kind], unit=UNIT_LABELS[unit]),
        validators=[InputRequired(_l("Indiquez une durée.")),
                    NumberRange(low, high, _l("Entre %(low)s et %(high)s.", low=low, high=high))],
        description=KIND_STARTS[kind])


class RetentionForm(RelaisForm):
    submit = SubmitField(_l("Enregistrer les durées"))


for _kind in KINDS:
    setattr(RetentionForm, _kind, _period_field(_kind))


class CorrectionForm(RelaisForm):
    message = TextAreaField(_l("Ce qui est inexact ou incomplet, et la correction demandée"),
                            validators=[DataRequired(_l("Décrivez la correction demandée.")), MaxLength(2000)],
                            description=_l("Par exemple : « Mon numéro de téléphone est désormais le 06 12 34 56 "
                                           "78. » N'indiquez pas de données sensibles (santé, opinions…)."))
    submit = SubmitField(_l("Envoyer la demande de correction"))


class DepartureForm(RelaisForm):
    departed_on = DateField(_l("Date de départ du réseau"),
                            validators=[InputRequired(_l("Indiquez la date de départ."))],
                            description=_l("Le formateur devient inactif ; sa fiche est archivée puis anonymisée "
                                           "après la durée de conservation."))
    submit = SubmitField(_l("Enregistrer le départ"))
