"""Forms of the trainer pages: roster filters, trainer record, weekly pattern, exceptions, limits, import."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    FormField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError

from app.domain.roster import AFTERNOON, GRID_WEEKDAYS, HALF_DAYS, MORNING
from app.formatting import clock_text
from app.forms import DateField, MultiCheckboxField, RelaisForm, RelaisSubform, SelectField
from app.models import ExceptionKind, Force

WEEKDAY_NAMES = (_l("Lundi"), _l("Mardi"), _l("Mercredi"), _l("Jeudi"), _l("Vendredi"), _l("Samedi"), _l("Dimanche"))
# The half-days' hours written from the roster's own, in the page's language, when shown.
HALF_DAY_LABELS = {
    "matin": LazyString(lambda: _("Matin (%(start)s – %(end)s)", start=clock_text(MORNING[0]),
                                  end=clock_text(MORNING[1]))),
    "apres-midi": LazyString(lambda: _("Après-midi (%(start)s – %(end)s)", start=clock_text(AFTERNOON[0]),
                                       end=clock_text(AFTERNOON[1]))),
}
FORCE_CHOICES = [(Force.POLICE.value, _l("Police nationale (PFAD)")),
                 (Force.GENDARMERIE.value, _l("Gendarmerie nationale (FRAD)"))]


class RosterFilterForm(RelaisForm):
    class Meta:
        csrf = False  # a GET search form

    q = StringField(_l("Nom, matricule ou adresse"), validators=[Optional(), Length(max=120)])
    # An absent filter is its "all" choice (""), a valid one: the page is read without any error to word.
    force = SelectField(_l("Force"), choices=[("", _l("Les deux"))] + FORCE_CHOICES, default="",
                        validators=[Optional()])
    departement = SelectField(_l("Département"), choices=[], default="", validators=[Optional()])
    theme = SelectField(_l("Thème"), choices=[], default="", validators=[Optional()])
    habilitation = SelectField(_l("Habilitation"), choices=[("", _l("Toutes")), ("valid", _l("Valide")),
                                                            ("expiring", _l("Expire dans les 60 jours")),
                                                            ("lapsed", _l("Expirée"))], default="",
                               validators=[Optional()])
    actif = SelectField(_l("État"), choices=[("oui", _l("Actifs")), ("non", _l("Inactifs")), ("tous", _l("Tous"))],
                        default="oui", validators=[Optional()])


class LimitsForm(RelaisForm):
    max_sessions_per_week = IntegerField(_l("Interventions par semaine, au plus"), validators=[
        InputRequired(_l("Indiquez un nombre.")), NumberRange(1, 20, _l("Entre 1 et 20."))])
    max_sessions_per_month = IntegerField(_l("Interventions par mois, au plus"), validators=[
        InputRequired(_l("Indiquez un nombre.")), NumberRange(1, 60, _l("Entre 1 et 60."))])
    max_distance_km = IntegerField(_l("Distance de trajet maximale (km)"), validators=[
        InputRequired(_l("Indiquez une distance.")), NumberRange(1, 1000, _l("Entre 1 et 1 000 km."))],
        description=_l("Distance par la route depuis votre unité."))
    accepts_pair_work = BooleanField(_l("J'accepte d'intervenir en binôme"))
    languages = StringField(_l("Langues parlées"), validators=[DataRequired(_l("Indiquez au moins une langue.")),
                                                               Length(max=120)],
                            description=_l("Séparées par des virgules, par exemple : français, anglais."))
    submit_limits = SubmitField(_l("Enregistrer mes limites"))

    def validate_max_sessions_per_week(self, field) -> None:
        if field.data and self.max_sessions_per_month.data and field.data > self.max_sessions_per_month.data:
            raise ValidationError(_l("Le maximum par semaine ne peut dépasser le maximum par mois."))


class TrainerForm(LimitsForm):
    """The record a coordinator maintains: qualifications, unit, départements, certification, state."""

    rank = StringField(_l("Grade"), validators=[DataRequired(_l("Indiquez le grade.")), Length(max=60)])
    unit_id = SelectField(_l("Unité"), coerce=int, choices=[],
                          validators=[InputRequired(_l("Choisissez l'unité."))])
    departements = SelectMultipleField(_l("Départements desservis"), choices=[],
                                       validators=[DataRequired(_l("Choisissez au moins un département."))],
                                       description=_l("Le plus souvent un seul ; parfois les départements voisins."))
    topics = MultiCheckboxField(_l("Thèmes pour lesquels le formateur est habilité"), choices=[],
                                validators=[DataRequired(_l("Cochez au moins un thème."))])
    audiences = MultiCheckboxField(_l("Publics"), choices=[],
                                   validators=[DataRequired(_l("Cochez au moins un public."))])
    initial_training_on = DateField(_l("Date de la formation initiale"),
                                    validators=[InputRequired(_l("Indiquez la date de la formation initiale."))])
    last_refresher_on = DateField(_l("Date du dernier stage de recyclage"), validators=[Optional()],
                                  description=_l("Le recyclage est dû tous les deux ans."))
    active = BooleanField(_l("Formateur actif"), default=True)
    inactive_reason = StringField(_l("Motif d'inactivité"), validators=[Optional(), Length(max=200)],
                                  description=_l("Mutation, congé long… L'historique est conservé."))
    accepts_pair_work = BooleanField(_l("Accepte d'intervenir en binôme"))
    submit = SubmitField(_l("Enregistrer"))
    submit_limits = None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Not an inline validator: the optional field's validation stops when it is empty.
        if not self.active.data and not (self.inactive_reason.data or "").strip():
            self.inactive_reason.errors = [*self.inactive_reason.errors,
                                           _l("Indiquez pourquoi le formateur est inactif.")]
            return False
        return valid

    def validate_last_refresher_on(self, field) -> None:
        if field.data and self.initial_training_on.data and field.data < self.initial_training_on.data:
            raise ValidationError(_l("Le recyclage ne peut précéder la formation initiale."))


class NewTrainerForm(TrainerForm):
    full_name = StringField(_l("Nom et prénom"), validators=[DataRequired(_l("Indiquez le nom.")), Length(max=120)])
    email = EmailField(_l("Adresse e-mail professionnelle"), validators=[
        DataRequired(_l("Indiquez l'adresse e-mail.")), Email(_l("Adresse e-mail invalide.")), Length(max=254)],
        description=_l("Le formateur y reçoit le lien d'activation de son compte."))
    force = RadioField(_l("Force"), choices=FORCE_CHOICES, validators=[InputRequired(_l("Choisissez la force."))])
    matricule = StringField(_l("Matricule"), validators=[DataRequired(_l("Indiquez le matricule.")), Length(max=20)])
    submit = SubmitField(_l("Créer la fiche et inviter le formateur"))


class CustomSlotForm(RelaisSubform):
    weekday = SelectField(_l("Jour"), coerce=int, choices=[(-1, "—")] + [(i, n) for i, n in enumerate(WEEKDAY_NAMES)],
                          default=-1)
    start = TimeField(_l("De"), validators=[Optional()])
    end = TimeField(_l("À"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        message = None
        if self.weekday.data is None or self.weekday.data < 0:
            if self.start.data or self.end.data:
                self.weekday.errors = [*self.weekday.errors, _l("Choisissez le jour de ce créneau.")]
                return False
            return valid
        if not self.start.data or not self.end.data:
            message = _l("Indiquez l'heure de début et l'heure de fin.")
        elif self.end.data <= self.start.data:
            message = _l("L'heure de fin doit suivre l'heure de début.")
        if message:
            self.end.errors = [*self.end.errors, message]
            return False
        return valid


class PatternForm(RelaisForm):
    """Weekly pattern: a grid of half-days, plus up to three slots with custom times."""

    custom = FieldList(FormField(CustomSlotForm), min_entries=3, max_entries=3)
    valid_from = DateField(_l("Valable à partir du"), validators=[Optional()],
                           description=_l("Laissez vide pour une disponibilité sans date de début."))
    valid_until = DateField(_l("Valable jusqu'au"), validators=[Optional()],
                            description=_l("Laissez vide si elle vaut jusqu'à nouvel ordre."))
    submit_pattern = SubmitField(_l("Enregistrer mes créneaux habituels"))

    def grid_field(self, weekday: int, half_day: str):
        return self[f"grid_{weekday}_{half_day.replace('-', '_')}"]

    def ticked(self) -> set[tuple[int, str]]:
        return {(weekday, half_day) for weekday in GRID_WEEKDAYS for half_day in HALF_DAYS
                if self.grid_field(weekday, half_day).data}

    def validate_valid_until(self, field) -> None:
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("La fin de validité doit suivre son début."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        has_custom = any(entry.form.weekday.data is not None and entry.form.weekday.data >= 0
                         for entry in self.custom)
        if valid and not self.ticked() and not has_custom:
            self.form_errors.append(_l("Cochez au moins une demi-journée ou indiquez un créneau. Pour une absence, "
                                       "déclarez plutôt une indisponibilité ci-dessous."))
            return False
        return valid


for _weekday in GRID_WEEKDAYS:
    for _half_day in HALF_DAYS:
        setattr(PatternForm, f"grid_{_weekday}_{_half_day.replace('-', '_')}",
                BooleanField(HALF_DAY_LABELS[_half_day]))


class ExceptionForm(RelaisForm):
    kind = RadioField(_l("Type"), choices=[(ExceptionKind.UNAVAILABLE.value, _l("Indisponibilité (congés, mission, "
                                                                                 "formation…)")),
                                           (ExceptionKind.EXTRA.value, _l("Disponibilité supplémentaire ponctuelle"))],
                      default=ExceptionKind.UNAVAILABLE.value, validators=[InputRequired()])
    start_day = DateField(_l("Du"), validators=[InputRequired(_l("Indiquez la date de début."))])
    start_time = TimeField(_l("À partir de (heure)"), validators=[Optional()],
                           description=_l("Facultatif pour une indisponibilité : sans heure, toute la journée."))
    end_day = DateField(_l("Au"), validators=[InputRequired(_l("Indiquez la date de fin."))])
    end_time = TimeField(_l("Jusqu'à (heure)"), validators=[Optional()])
    reason = StringField(_l("Motif"), validators=[Optional(), Length(max=200)],
                         description=_l("Facultatif ; visible de votre coordinateur."))
    submit_exception = SubmitField(_l("Ajouter"))

    def validate_end_day(self, field) -> None:
        # Checked here rather than on the optional time fields, whose validation stops when they are empty.
        if self.kind.data == ExceptionKind.EXTRA.value and (not self.start_time.data or not self.end_time.data):
            raise ValidationError(_l("Indiquez l'heure de début et l'heure de fin de la disponibilité "
                                     "supplémentaire."))
        if field.data and self.start_day.data:
            if field.data < self.start_day.data:
                raise ValidationError(_l("La date de fin doit suivre la date de début."))
            if (field.data == self.start_day.data and self.start_time.data and self.end_time.data
                    and self.end_time.data <= self.start_time.data):
                raise ValidationError(_l("L'heure de fin doit suivre l'heure de début."))


class ImportForm(RelaisForm):
    file = FileField(_l("Fichier du registre (CSV ou XLSX)"), validators=[
        FileRequired(_l("Choisissez un fichier.")), FileAllowed(["csv", "xlsx"], _l("Fichier CSV ou XLSX attendu."))],
        description=_l("Mêmes colonnes que l'export ; une ligne par formateur."))
    dry_run = BooleanField(_l("Simulation : vérifier et montrer les changements sans rien enregistrer"), default=True)
    submit = SubmitField(_l("Importer"))
