"""Forms of the national administration pages."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.forms import RelaisForm, SelectField
from app.models import Force, Role


class InviteUserForm(RelaisForm):
    full_name = StringField(_l("Nom et prénom"), validators=[DataRequired(_l("Indiquez le nom.")), Length(max=120)])
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(_l("Indiquez l'adresse e-mail.")),
                                                        Email(_l("Adresse e-mail invalide.")), Length(max=254)])
    role = SelectField(_l("Rôle"), choices=[(Role.COORDINATOR.value, _l("Coordinateur ou coordinatrice")),
                                            (Role.ADMIN.value, _l("Administrateur national"))])
    departements = SelectMultipleField(_l("Départements coordonnés"), choices=[],
                                       description=_l("Pour un coordinateur : un ou plusieurs départements."))
    force = SelectField(_l("Force coordonnée"), choices=[("", _l("Police et gendarmerie")),
                                                         (Force.POLICE.value, _l("Police nationale")),
                                                         (Force.GENDARMERIE.value, _l("Gendarmerie nationale"))])
    submit = SubmitField(_l("Envoyer l'invitation"))

    def validate_departements(self, field) -> None:
        if self.role.data == Role.COORDINATOR.value and not field.data:
            raise ValidationError(_l("Choisissez au moins un département pour un coordinateur."))


class RetryForm(RelaisForm):
    submit = SubmitField(_l("Renvoyer"))


class CoordinationOfficeForm(RelaisForm):
    """The coordination's address of one territory: the organizer of its invitations, where answers go."""

    email = EmailField(_l("Adresse e-mail de la coordination"),
                       validators=[Optional(), Email(_l("Adresse e-mail invalide.")), Length(max=254)],
                       description=_l("Une boîte lue par la coordination (une boîte fonctionnelle de préférence). "
                                      "Laissez vide pour revenir à l'adresse d'un coordinateur du territoire."))
    display_name = StringField(_l("Nom affiché dans les agendas"), validators=[Length(max=120)])
    submit = SubmitField(_l("Enregistrer"))
