"""The report after a session, filed by its trainer or corrected by the coordination."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.domain.reports import NOT_HELD_REASONS
from app.forms import MultiCheckboxField, RelaisForm
from app.labels import NOT_HELD_REASONS as NOT_HELD_LABELS

MAX_PEOPLE = 2000


class ReportForm(RelaisForm):
    """Every error is found in one pass; nothing is preselected, so an empty form sent with Enter saves nothing."""

    # No default: the trainer must say it, and the choice is checked below rather than by WTForms' English message.
    held = RadioField(_l("L'intervention a-t-elle eu lieu ?"), choices=[("oui", _l("Oui")), ("non", _l("Non"))],
                      validators=[InputRequired(_l("Indiquez si l'intervention a eu lieu : oui ou non."))],
                      validate_choice=False)
    people_present = IntegerField(_l("Nombre de personnes présentes"),
                                  validators=[Optional(), NumberRange(min=1, max=MAX_PEOPLE,
                                                                      message=_l("Entre 1 et 2 000."))])
    pupils = IntegerField(_l("dont élèves ou étudiants"), validators=[Optional(), NumberRange(min=0, max=MAX_PEOPLE)])
    staff = IntegerField(_l("dont personnels"), validators=[Optional(), NumberRange(min=0, max=MAX_PEOPLE)])
    parents = IntegerField(_l("dont parents"), validators=[Optional(), NumberRange(min=0, max=MAX_PEOPLE)])
    topics = MultiCheckboxField(_l("Thèmes abordés"))
    not_held_code = RadioField(_l("Pourquoi n'a-t-elle pas eu lieu ?"),
                               choices=[(code, NOT_HELD_LABELS[code]) for code in NOT_HELD_REASONS],
                               validate_choice=False)
    not_held_reason = TextAreaField(_l("Précisions sur le motif (facultatif)"),
                                    validators=[Optional(), Length(max=300)])
    remarks = TextAreaField(_l("Remarques"), validators=[Optional(), Length(max=2000)],
                            description=_l("Ambiance, questions marquantes, suites à donner…"))
    submit = SubmitField(_l("Enregistrer le compte rendu"))

    def validate_held(self, field) -> None:
        if field.data not in ("oui", "non"):
            raise ValidationError(_l("Indiquez si l'intervention a eu lieu : oui ou non."))

    def validate(self, extra_validators=None) -> bool:
        # Checked here, not per field: an empty optional field stops its own validators.
        valid = super().validate(extra_validators)
        if self.held.data == "non" and self.not_held_code.data not in NOT_HELD_REASONS:
            self.not_held_code.errors = [*self.not_held_code.errors,
                                         _l("Choisissez pourquoi l'intervention n'a pas eu lieu.")]
            valid = False
        if self.held.data != "oui":
            return valid
        if self.people_present.data is None and not self.people_present.errors:
            self.people_present.errors = [*self.people_present.errors,
                                          _l("Indiquez le nombre de personnes présentes.")]
            valid = False
        if not self.topics.data:
            self.topics.errors = [*self.topics.errors, _l("Cochez au moins un thème abordé.")]
            valid = False
        parts = [self.pupils.data, self.staff.data, self.parents.data]
        if any(p is not None for p in parts) and self.people_present.data is not None \
                and sum(p or 0 for p in parts) != self.people_present.data:
            self.pupils.errors = [*self.pupils.errors, _l("Élèves, personnels et parents doivent faire %(total)s "
                                                          "au total.", total=self.people_present.data)]
            valid = False
        return valid
