"""The app's select writes its options itself: the same HTML as WTForms' own, escaping included."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField as WTFormsSelectField
from wtforms.fields.choices import SelectChoice

from app.forms import SelectField


def test_the_select_writes_what_wtforms_writes(app):
    choices = [("", "Tous"), ("01", "01 – Ain"), ('<"x">', "R&D <b>"), ("974", "974 – La Réunion")]

    class Ours(FlaskForm):
        class Meta:
            csrf = False

        field = SelectField("Département", choices=choices)

    class Theirs(FlaskForm):
        class Meta:
            csrf = False

        field = WTFormsSelectField("Département", choices=choices)

    with app.test_request_context("/?field=974"):
        from flask import request

        ours, theirs = Ours(request.args), Theirs(request.args)
        assert str(ours.field(class_="form-select")) == str(theirs.field(class_="form-select"))
        assert '<option selected value="974">974 – La Réunion</option>' in str(ours.field())
        assert "&lt;b&gt;" in str(ours.field()) and "&#34;x&#34;" in str(ours.field())


def test_plain_choices_read_as_they_are_still_validate_and_coerce_like_wtforms(app):
    choices = [("1", "Un"), ("2", "Deux")]  # coerced to int, as WTForms does
    groups = [SelectChoice("59", "Nord", optgroup="Nord"), SelectChoice("13", "Bouches-du-Rhône", optgroup="Sud")]

    class Ours(FlaskForm):
        class Meta:
            csrf = False

        number = SelectField("Nombre", choices=choices, coerce=int)
        grouped = SelectField("Groupé", choices=groups)

    class Theirs(FlaskForm):
        class Meta:
            csrf = False

        number = WTFormsSelectField("Nombre", choices=choices, coerce=int)
        grouped = WTFormsSelectField("Groupé", choices=groups)

    for query, valid in (("/?number=2&grouped=13", True), ("/?number=3&grouped=13", False)):
        with app.test_request_context(query):
            from flask import request

            ours, theirs = Ours(request.args), Theirs(request.args)
            assert ours.validate() is theirs.validate() is valid
            assert ours.number.errors == theirs.number.errors
            selected = [[c.selected for c in form.number.iter_choices()] for form in (ours, theirs)]
            assert selected[0] == selected[1]
            assert str(ours.number()) == str(theirs.number())
            assert ours.grouped.has_groups() and str(ours.grouped()) == str(theirs.grouped())
            assert "<optgroup" in str(ours.grouped())
