"""The coordinator's queue filters and decisions."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.domain.identifiers import is_valid_siret, is_valid_uai
from app.forms import RelaisForm, SelectField
from app.labels import KIND_LABELS
from app.models import EstablishmentKind, Force, UnitKind

UNIT_KIND_LABELS = {
    # Short enough to be read whole in a select on a phone.
    UnitKind.DDPN: _l("DDPN (direction départementale)"),
    UnitKind.DIPN: _l("DIPN (direction interdépartementale)"),
    UnitKind.COMMISSARIAT: _l("Commissariat"),
    UnitKind.GROUPEMENT: _l("Groupement de gendarmerie"),
    UnitKind.COMPAGNIE: _l("Compagnie de gendarmerie"),
    UnitKind.BRIGADE: _l("Brigade de gendarmerie"),
    UnitKind.MPF: _l("Maison de protection des familles"),
    UnitKind.BPDJ: _l("BPDJ (brigade de prévention)"),
}


class RefuseForm(RelaisForm):
    reason = TextAreaField(_l("Motif du refus"), validators=[DataRequired(_l("Indiquez le motif du refus.")),
                                                            Length(max=500)],
                           description=_l("Il sera communiqué à l'établissement."), id="motif-refus")
    submit = SubmitField(_l("Refuser la demande"))


class AcceptForm(RelaisForm):
    submit = SubmitField(_l("Accepter et planifier"))


class ForceForm(RelaisForm):
    force = SelectField(_l("Force compétente"), choices=[(Force.POLICE.value, _l("Police nationale")),
                                                         (Force.GENDARMERIE.value, _l("Gendarmerie nationale"))])
    submit = SubmitField(_l("Changer la force"))


def _cancellation_reason(**options) -> TextAreaField:
    """The reason a coordinator gives for cancelling a request or one of its sessions: both are told it."""
    return TextAreaField(_l("Motif de l'annulation"), validators=[DataRequired(_l("Indiquez le motif.")),
                                                                 Length(max=500)],
                         description=_l("Il sera communiqué à l'établissement et aux formateurs concernés."),
                         **options)


class CancelForm(RelaisForm):
    reason = _cancellation_reason(id="motif-annulation")  # the request page has a refusal's reason too
    submit = SubmitField(_l("Annuler la demande"))


class CancelSessionForm(RelaisForm):
    """Cancelling one session of a request: the others go on."""

    reason = _cancellation_reason()
    submit = SubmitField(_l("Annuler cette intervention"))


class RefuseRegistrationForm(RelaisForm):
    """Not confirming a self-registered establishment: its first member is told why."""

    reason = TextAreaField(_l("Motif"), validators=[DataRequired(_l("Indiquez le motif.")), Length(max=500)],
                           description=_l("Il sera communiqué à la personne qui a inscrit l'établissement."))
    submit = SubmitField(_l("Ne pas confirmer"))


class EstablishmentCorrectionForm(RelaisForm):
    """The coordination corrects an establishment of its territory; the commune stays (it decides the territory)."""

    kind = SelectField(_l("Type d'établissement"), choices=[(kind.value, label) for kind, label in KIND_LABELS.items()],
                       validators=[DataRequired(_l("Choisissez le type d'établissement."))])
    name = StringField(_l("Nom de l'établissement"), validators=[DataRequired(_l("Indiquez le nom.")),
                                                                Length(max=200)])
    identifier = StringField(_l("Identifiant (UAI ou SIRET)"), validators=[Length(max=20)],
                             description=_l("Écoles, collèges, lycées et enseignement supérieur : code UAI (7 chiffres "
                                            "et une lettre). Entreprises et associations : SIRET (14 chiffres). "
                                            "Facultatif pour une administration."))
    address = StringField(_l("Adresse"), validators=[DataRequired(_l("Indiquez l'adresse.")), Length(max=250)])
    phone = StringField(_l("Téléphone de l'établissement"), validators=[Optional(), Length(max=30)])
    saturday_classes = BooleanField(_l("Des cours ou des activités ont lieu le samedi"),
                                    description=_l("Les interventions pourront alors y être prévues le samedi."))
    submit = SubmitField(_l("Enregistrer les corrections"))

    def validate_identifier(self, field) -> None:
        if self.kind.data not in {kind.value for kind in EstablishmentKind}:
            return  # the kind says its own error
        kind, value = EstablishmentKind(self.kind.data), (field.data or "").strip()
        if kind.uses_uai and not is_valid_uai(value):
            raise ValidationError(_l("Code UAI manquant ou invalide : 7 chiffres suivis de la lettre de contrôle "
                                     "(par exemple 0690001A)."))
        if (kind.uses_siret or (value and not kind.uses_uai)) and not is_valid_siret(value):
            raise ValidationError(_l("Numéro SIRET manquant ou invalide : 14 chiffres dont le dernier est une clé "
                                     "de contrôle."))


class EstablishmentSearchForm(RelaisForm):
    class Meta:
        csrf = False

    nom = StringField(_l("Nom ou commune contient"), validators=[Optional(), Length(max=100)])


class UnitForm(RelaisForm):
    """A unit of the territory, placed at its commune (the postcode, and the INSEE code when several communes share
    it). Editing, the postcode may stay empty: the unit stays where it is."""

    name = StringField(_l("Nom de l'unité"), validators=[DataRequired(_l("Indiquez le nom de l'unité.")),
                                                        Length(max=200)],
                       description=_l("Tel qu'il figure au registre des formateurs, par exemple « Commissariat de "
                                      "Vénissieux »."))
    kind = SelectField(_l("Type d'unité"), choices=[(kind.value, label) for kind, label in UNIT_KIND_LABELS.items()],
                       validators=[DataRequired(_l("Choisissez le type d'unité."))])
    force = SelectField(_l("Force"), choices=[(Force.POLICE.value, _l("Police nationale")),
                                              (Force.GENDARMERIE.value, _l("Gendarmerie nationale"))],
                        validators=[DataRequired(_l("Choisissez la force."))])
    postcode = StringField(_l("Code postal de la commune"),
                           validators=[Optional(), Regexp(r"^\d{5}$", message=_l("Le code postal compte 5 chiffres."))],
                           render_kw={"inputmode": "numeric"})
    commune_insee = StringField(_l("Code INSEE de la commune"), validators=[Optional(), Length(max=5)],
                                description=_l("Seulement si plusieurs communes ont ce code postal (par exemple 69259 "
                                               "pour Vénissieux)."))
    commune_name = StringField(_l("Nom de la commune"), validators=[Optional(), Length(max=120)],
                               description=_l("Seulement si la commune n'est pas reconnue."))
    submit = SubmitField(_l("Enregistrer l'unité"))


class NewUnitForm(UnitForm):
    postcode = StringField(_l("Code postal de la commune"),
                           validators=[DataRequired(_l("Indiquez le code postal de la commune de l'unité.")),
                                       Regexp(r"^\d{5}$", message=_l("Le code postal compte 5 chiffres."))],
                           render_kw={"inputmode": "numeric"})
