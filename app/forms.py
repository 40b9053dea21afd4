"""Form pieces shared by several blueprints."""

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (rendered as a fieldset by the `field` macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
