"""Form pieces shared by several blueprints."""

from markupsafe import Markup, escape
from wtforms import SelectField as BaseSelectField
from wtforms import SelectMultipleField
from wtforms.fields.choices import Choice
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.widgets import Select as BaseSelect


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
