"""The trainer's report after a session."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from app.forms import MultiCheckboxField, RelaisForm

MAX_PEOPLE = 2000


class ReportForm(RelaisForm):
    held = RadioField(_l("L'intervention a-t-elle eu lieu ?"), choices=[("oui", _l("Oui")), ("non", _l("Non"))],
                      validators=[Optional()])
    not_held_reason = StringField(_l("Pourquoi n'a-t-elle pas eu lieu ?"), validators=[Optional(), Length(max=300)])
    people_present = IntegerField(_l("Nombre de personnes présentes"),
                                  validators=[Optional(), NumberRange(min=1, max=MAX_PEOPLE,
                                                                      message=_l("Entre 1 et 2 000."))])
    pupils = IntegerField(_l("dont élèves ou étudiants"), validators=[Optional(), NumberRange(min=0, max=MAX_PEOPLE)])
    staff = IntegerField(_l("dont personnels"), validators=[Optional(), NumberRange(min=0, max=MAX_PEOPLE)])
    parents = IntegerField(_l("dont parents"), validators=[Optional(), NumberRange(min=0, max=MAX_PEOPLE)])
    topics = MultiCheckboxField(_l("Thèmes abordés"))
    remarks = TextAreaField(_l("Remarques"), validators=[Optional(), Length(max=2000)],
                            description=_l("Ambiance, questions marquantes, suites à donner…"))
    submit = SubmitField(_l("Enregistrer le compte rendu"))

    def validate_held(self, field) -> None:
        if field.data not in ("oui", "non"):
            raise ValidationError(_l("Indiquez si l'intervention a eu lieu."))

    def validate(self, extra_validators=None) -> bool:
        # Checked here, not per field: an empty optional field stops its own validators.
        valid = super().validate(extra_validators)
        if self.held.data == "non" and not (self.not_held_reason.data or "").strip():
            self.not_held_reason.errors = [*self.not_held_reason.errors,
                                           _l("Indiquez pourquoi l'intervention n'a pas eu lieu.")]
            return False
        if self.held.data != "oui":
            return valid
        if self.people_present.data is None and not self.people_present.errors:
            self.people_present.errors = [*self.people_present.errors,
                                          _l("Indiquez le nombre de personnes présentes.")]
            return False
        parts = [self.pupils.data, self.staff.data, self.parents.data]
        if any(p is not None for p in parts) and self.people_present.data is not None \
                and sum(p or 0 for p in parts) != self.people_present.data:
            self.pupils.errors = [*self.pupils.errors, _l("Élèves, personnels et parents doivent faire %(total)s "
                                                          "au total.", total=self.people_present.data)]
            return False
        return valid

    def validate_topics(self, field) -> None:
        if self.held.data == "oui" and not field.data:
            raise ValidationError(_l("Cochez au moins un thème abordé."))
