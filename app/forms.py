"""Form pieces shared by several blueprints: fields, and the forms that more than one blueprint shows."""

from __future__ import annotations

from datetime import date, datetime

import wtforms
from flask_babel import format_date, format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import DateField as BaseDateField
from wtforms import HiddenField, SelectMultipleField, SubmitField, TextAreaField, ValidationError
from wtforms import SelectField as BaseSelectField
from wtforms.fields.choices import Choice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.widgets import Select as BaseSelect

from app.converters import EARLIEST_DATE, LATEST_DATE
from app.domain.text import clean_text


class _CleanedText:
    """Form meta: every field's data goes through clean_text."""

    def bind_field(self, form, unbound_field, options):
        if not issubclass(unbound_field.field_class, wtforms.FieldList | wtforms.FormField):  # their fields are
            options["filters"] = (*options.get("filters", ()), clean_text)
        return unbound_field.bind(form=form, **options)


class RelaisForm(FlaskForm):
    """The base of every form of the app: CSRF (Flask-WTF), and typed text cleaned the same way everywhere."""

    class Meta(_CleanedText):
        pass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Hidden fields (the token…) and buttons without an id (no label points at them): a page with several
        # forms would repeat "csrf_token" and "submit", or a filter's names in the hidden copy of the next step.
        for field in self._fields.values():
            if isinstance(field, HiddenField | SubmitField):
                field.render_kw = {"id": False, **(field.render_kw or {})}


class RelaisSubform(wtforms.Form):
    """A repeated part of a form (a window, a slot): no CSRF of its own, the same cleaning."""

    class Meta(_CleanedText):
        pass


class MaxLength(Length):
    """At most `max` characters, refused with the count; never cut (the `field` macro writes no maxlength attribute,
    with which a browser drops the end of a pasted text without a word). `shown`: the limit is written under the
    field and counted as one types (for the texts that may be long)."""

    def __init__(self, max: int, shown: bool = True):  # noqa: A002 (Length's name)
        super().__init__(max=max)
        self.shown = shown

    @property
    def hint(self) -> str | None:
        return gettext("%(max)s caractères au maximum.", max=format_decimal(self.max)) if self.shown else None

    def __call__(self, form, field) -> None:
        length = len(field.data or "")
        if length > self.max:
            raise ValidationError(gettext("%(max)s caractères au maximum : votre texte en compte %(length)s. "
                                          "Raccourcissez-le, rien n'a été coupé.", max=format_decimal(self.max),
                                          length=format_decimal(length)))


class DateField(BaseDateField):
    """A date within sensible bounds (1970–2100 unless narrower), with the reason in French."""

    def __init__(self, label=None, validators=None, earliest: date = EARLIEST_DATE, latest: date = LATEST_DATE,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.earliest, self.latest = earliest, latest

    def pre_validate(self, form) -> None:
        if self.data is not None and not self.earliest <= self.data <= self.latest:
            raise ValidationError(_l("Date hors des limites : entre le %(earliest)s et le %(latest)s.",
                                     earliest=format_date(self.earliest, "short"),
                                     latest=format_date(self.latest, "short")))


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (rendered as a fieldset by the `field` macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class Select(BaseSelect):
    """WTForms' select, its plain options written in one string each: WTForms builds every option through
    `html_params`, which made the 101 départements of a filter cost more than the page's rows."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""  # where html_params puts it (sorted)
        label = choice.label or choice.value
        return Markup(f'<option {selected}value="{escape(choice.value)}">{escape(label)}</option>')  # noqa: S704 (value and label escaped)


class SelectField(BaseSelectField):
    """The select of every form of the app (see Select). Its choices, when they are plain (value, label) pairs,
    are read as they are: WTForms turns each into two objects every time it looks at them (three times a page:
    the widget, the optgroup check, the validation), which cost more than a list of départements itself."""

    widget = Select()

    def _plain_choices(self) -> list[tuple[str, str]] | None:
        choices = self.choices
        if isinstance(choices, list) and all(type(choice) is tuple and len(choice) == 2 for choice in choices):
            return choices
        return None

    def has_groups(self) -> bool:
        return False if self._plain_choices() is not None else super().has_groups()

    def iter_choices(self) -> list[Choice]:
        plain = self._plain_choices()
        if plain is None:
            return super().iter_choices()
        coerce, data = self.coerce, self.data
        return [Choice(value=value, label=label, selected=coerce(value) == data, render_kw={})
                for value, label in plain]


class ConfirmForm(RelaisForm):
    submit = SubmitField(_l("Confirmer"))


class DecisionForm(RelaisForm):
    """Approve or refuse someone's request to join an establishment (its members, or the coordination)."""

    submit = SubmitField(_l("Valider"))


class ReopenForm(RelaisForm):
    submit = SubmitField(_l("Rouvrir pour correction"))


class AcceptOfferForm(RelaisForm):
    submit = SubmitField(_l("Accepter"))


class DeclineOfferForm(RelaisForm):
    reason = TextAreaField(_l("Motif du refus"), validators=[DataRequired(_l("Indiquez pourquoi vous déclinez.")),
                                                            Length(max=500)],
                           description=_l("Il aide la coordination à mieux vous solliciter."))
    submit = SubmitField(_l("Décliner"))


class OfferForm(RelaisForm):
    """One candidate's row: a start time among those possible, then offer or assign directly."""

    # The start is checked by the domain when the offer is made (app.domain.offers.offer_to_candidate).
    starts_at = SelectField(_l("Horaire"), validate_choice=False)
    offer = SubmitField(_l("Proposer"))
    assign = SubmitField(_l("Affecter directement"))


# Start times a coordinator chooses from for one trainer (the earliest ones).
START_CHOICES = 40


def start_choices(starts: list[datetime], zone: str, labels: dict[datetime, str] | None = None
                  ) -> list[tuple[str, str]]:
    """(value, label) of the start times a coordinator may pick, the first START_CHOICES of them. `labels` keeps
    the dates written for one candidate for the next (the candidates of a session share most starts)."""
    from app.templating import local_datetime_filter

    labels = {} if labels is None else labels
    usable = starts[:START_CHOICES]
    for start in usable:
        if start not in labels:
            labels[start] = local_datetime_filter(start, zone, "long")
    return [(start.isoformat(), labels[start]) for start in usable]
