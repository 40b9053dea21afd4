"""Answering an offer (trainers) and offering, assigning or withdrawing (coordinators)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SubmitField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length

from app.forms import SelectField


class AcceptOfferForm(FlaskForm):
    submit = SubmitField(_l("Accepter"))


class DeclineOfferForm(FlaskForm):
    reason = TextAreaField(_l("Motif du refus"), validators=[DataRequired(_l("Indiquez pourquoi vous déclinez.")),
                                                            Length(max=500)],
                           description=_l("Il aide la coordination à mieux vous solliciter."))
    submit = SubmitField(_l("Décliner"))


class OfferForm(FlaskForm):
    """One candidate's row: a start time among those possible, then offer or assign directly."""

    starts_at = SelectField(_l("Horaire"), validators=[DataRequired(_l("Choisissez un horaire."))])
    offer = SubmitField(_l("Proposer"))
    assign = SubmitField(_l("Affecter directement"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Motif du retrait"), validators=[DataRequired(_l("Indiquez le motif du retrait.")),
                                                              Length(max=500)],
                           description=_l("Il sera communiqué au formateur."))
    submit = SubmitField(_l("Retirer le formateur"))


class RescheduleForm(FlaskForm):
    """A new date and start time, in the place's local time."""

    day = DateField(_l("Nouvelle date"), validators=[DataRequired(_l("Indiquez la date (jj/mm/aaaa)."))])
    start = TimeField(_l("Heure de début"), validators=[DataRequired(_l("Indiquez l'heure de début (hh:mm)."))])
    submit = SubmitField(_l("Changer l'horaire"))
