"""The request form (with several availability windows), cancellation and feedback forms."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    FormField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Optional, Regexp

from app.domain.request_rules import DURATIONS
from app.forms import DateField, MaxLength, MultiCheckboxField, RelaisForm, RelaisSubform, SelectField

MAX_WINDOWS = 10


class WindowForm(RelaisSubform):
    """One availability window: dates and times of day, local to the establishment."""

    start_date = DateField(_l("Du"), validators=[Optional()])
    end_date = DateField(_l("Au"), validators=[Optional()])
    start_time = TimeField(_l("À partir de"), validators=[Optional()])
    end_time = TimeField(_l("Jusqu'à"), validators=[Optional()])

    def is_blank(self) -> bool:
        return all(f.data is None and not f.raw_data or f.raw_data == [""] for f in self)


def _duration_label(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _practical_fields() -> tuple:
    """Where, with what, whom to call: typed with the request, and still changeable once it is planned. Made anew
    for each form, so that each keeps the order of its page."""
    place = StringField(_l("Lieu de l'intervention"), validators=[Optional(), MaxLength(250)],
                        description=_l("Seulement si ce n'est pas l'adresse de l'établissement."))
    room = StringField(_l("Salle"), validators=[Optional(), MaxLength(120, shown=False)])
    equipment = StringField(_l("Matériel disponible"), validators=[Optional(), MaxLength(250)],
                            description=_l("Par exemple : vidéoprojecteur, tableau numérique, sonorisation."))
    contact_name = StringField(_l("Personne à contacter"), validators=[DataRequired(_l("Indiquez un contact.")),
                                                                      MaxLength(120, shown=False)])
    contact_phone = StringField(_l("Téléphone du contact"),
                                validators=[DataRequired(_l("Indiquez un numéro de téléphone.")),
                                            Regexp(r"^\+?[0-9 .()-]{8,20}$",
                                                   message=_l("Numéro de téléphone invalide."))],
                                render_kw={"autocomplete": "tel"})
    contact_email = EmailField(_l("Adresse e-mail du contact"),
                               validators=[Optional(), Email(_l("Adresse e-mail invalide.")),
                                           MaxLength(254, shown=False)])
    notes = TextAreaField(_l("Remarques"), validators=[Optional(), MaxLength(4000)],
                          description=_l("Contexte, attentes particulières, accès au site…"))
    return place, room, equipment, contact_name, contact_phone, contact_email, notes


class RequestForm(RelaisForm):
    audiences = MultiCheckboxField(_l("Public concerné"), choices=[],
                                   description=_l("Pour des élèves, cochez les niveaux concernés."))
    topics = MultiCheckboxField(_l("Thèmes souhaités"), choices=[])
    group_count = IntegerField(_l("Nombre de groupes"),
                               validators=[InputRequired(_l("Indiquez le nombre de groupes."))],
                               description=_l("Une intervention par groupe (une classe, un amphithéâtre…)."),
                               render_kw={"min": 1, "inputmode": "numeric"})
    people_per_group = IntegerField(_l("Personnes par groupe"),
                                    validators=[InputRequired(_l("Indiquez le nombre de personnes par groupe."))],
                                    render_kw={"min": 1, "inputmode": "numeric"})
    duration_minutes = SelectField(_l("Durée de chaque intervention"), coerce=int, default=60,
                                   choices=[(minutes, _duration_label(minutes)) for minutes in DURATIONS])
    windows = FieldList(FormField(WindowForm), _l("Période"), min_entries=1, max_entries=MAX_WINDOWS)
    add_window = SubmitField(_l("Ajouter une période"))
    place, room, equipment, contact_name, contact_phone, contact_email, notes = _practical_fields()
    wants_two_trainers = BooleanField(_l("Nous souhaitons deux formateurs"))
    save = SubmitField(_l("Enregistrer le brouillon"))
    send = SubmitField(_l("Envoyer la demande"))


class ReasonForm(RelaisForm):
    reason = TextAreaField(_l("Motif"), validators=[DataRequired(_l("Indiquez le motif.")), MaxLength(500)],
                           description=_l("Il sera communiqué aux personnes concernées."))
    submit = SubmitField(_l("Confirmer l'annulation"))


class FeedbackForm(RelaisForm):
    satisfaction = RadioField(_l("Satisfaction"), coerce=int,
                              choices=[(5, _l("5 — Très satisfait")), (4, _l("4 — Satisfait")),
                                       (3, _l("3 — Moyennement satisfait")), (2, _l("2 — Peu satisfait")),
                                       (1, _l("1 — Pas du tout satisfait"))],
                              validators=[InputRequired(_l("Choisissez une note de 1 à 5."))])
    comment = TextAreaField(_l("Commentaire"), validators=[Optional(), MaxLength(2000)])
    submit = SubmitField(_l("Enregistrer mon avis"))


class PracticalDetailsForm(RelaisForm):
    """The practical details of a planned request: the same fields as in the request form."""

    place, room, equipment, contact_name, contact_phone, contact_email, notes = _practical_fields()
    submit = SubmitField(_l("Enregistrer et prévenir les personnes concernées"))
