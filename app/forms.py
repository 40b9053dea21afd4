"""Form pieces shared by several blueprints."""

from markupsafe import Markup, escape
from wtforms import SelectField as BaseSelectField
from wtforms import SelectMultipleField
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
    """The select of every form of the app (see Select)."""

    widget = Select()
