"""The app's select writes its options itself: the same HTML as WTForms' own, escaping included."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField as WTFormsSelectField

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
