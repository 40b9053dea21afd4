"""Resetting a feed's address and filtering an export."""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, SubmitField
from wtforms.validators import Length, Optional, ValidationError

from app.forms import DateField, MultiCheckboxField, RelaisForm, SelectField
from app.labels import INTERVENTION_STATUS
from app.models import InterventionStatus


class ResetForm(RelaisForm):
    submit = SubmitField(_l("Créer une nouvelle adresse"))


# The states as every page writes them (app.labels, one table).
EXPORT_STATUSES = [(status.value, INTERVENTION_STATUS[status][0])
                   for status in (InterventionStatus.CONFIRMED, InterventionStatus.OFFERED, InterventionStatus.DONE,
                                  InterventionStatus.NOT_HELD, InterventionStatus.CANCELLED)]


class ExportForm(RelaisForm):
    class Meta:
        csrf = False  # a download: it reads, never writes

    date_from = DateField(_l("Du"), validators=[Optional()])
    date_to = DateField(_l("Au"), validators=[Optional()])
    departement = SelectField(_l("Département"), validators=[Optional()])
    force = SelectField(_l("Force"), choices=[("", _l("Toutes")), ("police", _l("Police nationale")),
                                              ("gendarmerie", _l("Gendarmerie nationale"))], validators=[Optional()])
    trainer = StringField(_l("Matricule du formateur"), validators=[Optional(), Length(max=20)])
    establishment = SelectField(_l("Établissement"), validators=[Optional()])
    statuses = MultiCheckboxField(_l("États"), choices=EXPORT_STATUSES,
                                  default=[InterventionStatus.CONFIRMED.value, InterventionStatus.DONE.value])
    format = RadioField(_l("Format"), choices=[("ics", _l("Agenda iCalendar (.ics)")),
                                               ("csv", _l("Tableur CSV (.csv)")),
                                               ("xlsx", _l("Classeur Excel (.xlsx)"))], default="ics")

    def validate_date_to(self, field) -> None:
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError(_l("La fin doit suivre le début."))

    def validate_statuses(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choisissez au moins un état."))
