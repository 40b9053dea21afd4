"""Choosing the period and territory to plan, and sending the previewed plan."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, ValidationError

from app.forms import DateField, RelaisForm, SelectField

MAX_PERIOD_DAYS = 92


class PlanForm(RelaisForm):
    class Meta:
        csrf = False  # a GET form that only reads: the preview changes nothing

    date_from = DateField(_l("Du"), validators=[DataRequired(_l("Indiquez la date de début (jj/mm/aaaa)."))])
    date_to = DateField(_l("Au"), validators=[DataRequired(_l("Indiquez la date de fin (jj/mm/aaaa)."))])
    departement = SelectField(_l("Département"), validators=[DataRequired(_l("Choisissez un département."))])
    force = SelectField(_l("Force"), choices=[("", _l("Toutes celles de mon périmètre")),
                                              ("police", _l("Police nationale")),
                                              ("gendarmerie", _l("Gendarmerie nationale"))])
    submit = SubmitField(_l("Calculer l'aperçu"))

    def validate_date_to(self, field) -> None:
        if self.date_from.data and field.data:
            if field.data < self.date_from.data:
                raise ValidationError(_l("La fin doit suivre le début."))
            if (field.data - self.date_from.data).days > MAX_PERIOD_DAYS:
                raise ValidationError(_l("Planifiez au plus trois mois à la fois."))


class CommitPlanForm(RelaisForm):
    date_from = HiddenField()
    date_to = HiddenField()
    departement = HiddenField()
    force = HiddenField()
    fingerprint = HiddenField()
    submit = SubmitField(_l("Envoyer les propositions"))
