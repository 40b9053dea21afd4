"""Registering, joining and managing an establishment."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Optional, Regexp, ValidationError

from app.domain.identifiers import is_valid_siret, is_valid_uai, normalize_siret, normalize_uai
from app.forms import MaxLength, RelaisForm, SelectField
from app.labels import KIND_LABELS
from app.models import EstablishmentKind


def identifier_problem(kind: EstablishmentKind, value: str) -> str | None:
    """The French message for a missing or invalid UAI/SIRET, or None."""
    value = (value or "").strip()
    if kind.uses_uai:
        if not value:
            return _l("Indiquez le code UAI de l'établissement (7 chiffres et une lettre).")
        if not is_valid_uai(value):
            return _l("Code UAI invalide : 7 chiffres suivis de la lettre de contrôle (par exemple 0690001A). "
                      "Vérifiez la saisie.")
    elif kind.uses_siret:
        if not value:
            return _l("Indiquez le numéro SIRET (14 chiffres).")
        if not is_valid_siret(value):
            return _l("Numéro SIRET invalide : 14 chiffres dont le dernier est une clé de contrôle. "
                      "Vérifiez la saisie.")
    elif value and not is_valid_siret(value):
        return _l("Numéro SIRET invalide : 14 chiffres dont le dernier est une clé de contrôle. Vérifiez la saisie.")
    return None


def normalized_identifier(kind: EstablishmentKind, value: str) -> tuple[str | None, str | None]:
    """(uai, siret) to store."""
    value = (value or "").strip()
    if not value:
        return None, None
    return (normalize_uai(value), None) if kind.uses_uai else (None, normalize_siret(value))


def _saturday_classes_field() -> BooleanField:
    return BooleanField(_l("Des cours ou des activités ont lieu le samedi"),
                        description=_l("Cochez seulement si l'établissement accueille des élèves ou du public le "
                                       "samedi : les interventions pourront alors y être prévues ce jour-là."))


class EstablishmentDetailsForm(RelaisForm):
    """What members may correct themselves; the commune (hence the département and the force) stays."""

    name = StringField(_l("Nom de l'établissement"), validators=[DataRequired(_l("Indiquez le nom.")),
                                                                MaxLength(200, shown=False)],
                       render_kw={"autocomplete": "organization"})
    address = StringField(_l("Adresse"), validators=[DataRequired(_l("Indiquez l'adresse.")),
                                                     MaxLength(250, shown=False)],
                          render_kw={"autocomplete": "street-address"})
    phone = StringField(_l("Téléphone de l'établissement"), validators=[Optional(), MaxLength(30, shown=False)],
                        render_kw={"autocomplete": "tel"})
    saturday_classes = _saturday_classes_field()
    submit = SubmitField(_l("Enregistrer les modifications"))


class EstablishmentForm(RelaisForm):
    kind = SelectField(_l("Type d'établissement"), choices=[(kind.value, label) for kind, label in KIND_LABELS.items()],
                       validators=[DataRequired(_l("Choisissez le type d'établissement."))])
    name = StringField(_l("Nom de l'établissement"), validators=[DataRequired(_l("Indiquez le nom.")),
                                                                MaxLength(200, shown=False)],
                       render_kw={"autocomplete": "organization"})
    identifier = StringField(_l("Identifiant (UAI ou SIRET)"), validators=[MaxLength(20, shown=False)],
                             description=_l("Écoles, collèges, lycées et enseignement supérieur : code UAI "
                                            "(7 chiffres et une lettre). Entreprises et associations : SIRET "
                                            "(14 chiffres). Facultatif pour une administration."))
    address = StringField(_l("Adresse"), validators=[DataRequired(_l("Indiquez l'adresse.")),
                                                     MaxLength(250, shown=False)],
                          render_kw={"autocomplete": "street-address"})
    postcode = StringField(_l("Code postal"), validators=[DataRequired(_l("Indiquez le code postal.")),
                                                         Regexp(r"^\d{5}$", message=_l("Le code postal compte "
                                                                                       "5 chiffres."))],
                           render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})
    commune_choice = RadioField(_l("Commune"), choices=[], validate_choice=False)
    commune_insee = StringField(_l("Code INSEE de la commune"), validators=[Optional(), MaxLength(5, shown=False)],
                                description=_l("Facultatif si le code postal ne dessert qu'une commune "
                                               "(par exemple 69123 pour Lyon)."))
    commune_name = StringField(_l("Nom de la commune"), validators=[Optional(), MaxLength(120, shown=False)],
                               description=_l("Seulement si la commune n'est pas reconnue."))
    phone = StringField(_l("Téléphone de l'établissement"), validators=[Optional(), MaxLength(30, shown=False)],
                        render_kw={"autocomplete": "tel"})
    saturday_classes = _saturday_classes_field()
    submit = SubmitField(_l("Enregistrer l'établissement"))

    def validate_identifier(self, field) -> None:
        if self.kind.data not in {kind.value for kind in EstablishmentKind}:
            return  # the kind says its own error
        problem = identifier_problem(EstablishmentKind(self.kind.data), field.data)
        if problem:
            raise ValidationError(problem)


class JoinForm(RelaisForm):
    identifier = StringField(_l("Identifiant de l'établissement (UAI ou SIRET)"),
                             validators=[DataRequired(_l("Indiquez le code UAI ou le numéro SIRET.")),
                                         MaxLength(20, shown=False)])
    message = TextAreaField(_l("Message pour vos collègues (facultatif)"), validators=[Optional(), MaxLength(500)],
                            description=_l("Par exemple votre fonction : CPE, infirmière scolaire…"))
    submit = SubmitField(_l("Demander à rejoindre"))

    def validate_identifier(self, field) -> None:
        if not (is_valid_uai(field.data) or is_valid_siret(field.data)):
            raise ValidationError(_l("Ni un code UAI (7 chiffres et une lettre) ni un numéro SIRET (14 chiffres) "
                                     "valide : vérifiez la saisie."))


class InviteColleagueForm(RelaisForm):
    full_name = StringField(_l("Nom et prénom"), validators=[DataRequired(_l("Indiquez le nom.")),
                                                            MaxLength(120, shown=False)])
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(_l("Indiquez l'adresse e-mail.")),
                                                        Email(_l("Adresse e-mail invalide.")),
                                                        MaxLength(254, shown=False)])
    submit = SubmitField(_l("Inviter"))


