"""The mode of a coordination scope, and sending the proposal Relais prepared."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SubmitField
from wtforms.validators import DataRequired, InputRequired

from app.forms import RelaisForm
from app.models import AutopilotMode

MODE_CHOICES = [
    (AutopilotMode.MANUAL.value, _l("Manuel")),
    (AutopilotMode.PROPOSED.value, _l("Proposé")),
    (AutopilotMode.AUTOMATIC.value, _l("Automatique")),
]
# What each mode does, said under its label.
MODE_HELP = {
    AutopilotMode.MANUAL.value: _l("Comme avant : la coordination choisit chaque formateur ou planifie une période "
                                   "elle-même. Relais ne prépare rien."),
    AutopilotMode.PROPOSED.value: _l("Relais prépare les propositions dès qu'une demande est acceptée ; un "
                                     "coordinateur les vérifie et les envoie en un clic depuis son accueil."),
    AutopilotMode.AUTOMATIC.value: _l("Relais envoie lui-même les propositions aux formateurs, et propose à "
                                      "nouveau une intervention déclinée ou expirée. Chaque envoi figure dans "
                                      "l'historique, « par Relais »."),
}


class ModeForm(RelaisForm):
    mode = RadioField(_l("Mode de planification"), choices=MODE_CHOICES,
                      validators=[InputRequired(_l("Choisissez un mode."))])
    submit = SubmitField(_l("Enregistrer le mode"))


class SendProposalForm(RelaisForm):
    fingerprint = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Envoyer"))
