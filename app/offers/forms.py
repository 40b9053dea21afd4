"""Withdrawing a trainer and moving a session (coordinators); the answer and offer forms are shared (app.forms)."""

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length

from app.forms import DateField, RelaisForm


class WithdrawForm(RelaisForm):
    reason = TextAreaField(_l("Motif du retrait"), validators=[DataRequired(_l("Indiquez le motif du retrait.")),
                                                              Length(max=500)],
                           description=_l("Il sera communiqué au formateur."))
    submit = SubmitField(_l("Retirer le formateur"))


class RescheduleForm(RelaisForm):
    """A new date and start time, in the place's local time."""

    day = DateField(_l("Nouvelle date"), validators=[DataRequired(_l("Indiquez la date (jj/mm/aaaa)."))])
    start = TimeField(_l("Heure de début"), validators=[DataRequired(_l("Indiquez l'heure de début (hh:mm)."))])
    submit = SubmitField(_l("Changer l'horaire"))
