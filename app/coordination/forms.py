"""The coordinator's queue filters and decisions."""

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import RelaisForm, SelectField
from app.models import Force


class RefuseForm(RelaisForm):
    reason = TextAreaField(_l("Motif du refus"), validators=[DataRequired(_l("Indiquez le motif du refus.")),
                                                            Length(max=500)],
                           description=_l("Il sera communiqué à l'établissement."), id="motif-refus")
    submit = SubmitField(_l("Refuser la demande"))


class AcceptForm(RelaisForm):
    submit = SubmitField(_l("Accepter et planifier"))


class ForceForm(RelaisForm):
    force = SelectField(_l("Force compétente"), choices=[(Force.POLICE.value, _l("Police nationale")),
                                                         (Force.GENDARMERIE.value, _l("Gendarmerie nationale"))])
    submit = SubmitField(_l("Changer la force"))


class CancelForm(RelaisForm):
    reason = TextAreaField(_l("Motif de l'annulation"), validators=[DataRequired(_l("Indiquez le motif.")),
                                                                   Length(max=500)],
                           description=_l("Il sera communiqué à l'établissement et aux formateurs concernés."),
                           id="motif-annulation")
    submit = SubmitField(_l("Annuler la demande"))


class RefuseRegistrationForm(RelaisForm):
    """Not confirming a self-registered establishment: its first member is told why."""

    reason = TextAreaField(_l("Motif"), validators=[DataRequired(_l("Indiquez le motif.")), Length(max=500)],
                           description=_l("Il sera communiqué à la personne qui a inscrit l'établissement."))
    submit = SubmitField(_l("Ne pas confirmer"))
