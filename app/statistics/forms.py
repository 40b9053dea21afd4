"""The period (and, nationally, the territory) of the dashboard."""

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField
from wtforms.validators import Optional, ValidationError

from app.forms import DateField, RelaisForm, SelectField


class PeriodForm(RelaisForm):
    class Meta:
        csrf = False  # it only reads

    date_from = DateField(_l("Du"), validators=[Optional()])
    date_to = DateField(_l("Au"), validators=[Optional()])
    departement = SelectField(_l("Département"), validators=[Optional()])
    force = SelectField(_l("Force"), choices=[("", _l("Toutes")), ("police", _l("Police nationale")),
                                              ("gendarmerie", _l("Gendarmerie nationale"))], validators=[Optional()])
    submit = SubmitField(_l("Afficher"))

    def validate_date_to(self, field) -> None:
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError(_l("La fin doit suivre le début."))
        if bool(self.date_from.data) != bool(field.data):
            raise ValidationError(_l("Indiquez les deux dates, ou aucune pour l'année scolaire en cours."))
