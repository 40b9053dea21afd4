"""Log-in, registration and password forms."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from app.domain.passwords import password_advice, password_problem
from app.forms import RelaisForm


class LoginForm(RelaisForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(_l("Saisissez votre adresse e-mail.")),
                                                        Email(_l("Adresse e-mail invalide."))],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(_l("Saisissez votre mot de passe."))],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Rester connecté sur cet appareil"))
    submit = SubmitField(_l("Se connecter"))


class PasswordRequestForm(RelaisForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(_l("Saisissez votre adresse e-mail.")),
                                                        Email(_l("Adresse e-mail invalide."))],
                       render_kw={"autocomplete": "email"})
    submit = SubmitField(_l("Recevoir un lien"))


class NewPasswordMixin:
    """Checks the password policy; the form's own fields give the personal words to refuse."""

    personal_words: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.password.description = password_advice(current_app.config["RELAIS_PASSWORD_MIN_LENGTH"])

    def validate_password(self, field) -> None:
        problem = password_problem(field.data or "", current_app.config["RELAIS_PASSWORD_MIN_LENGTH"],
                                   self.personal_words)
        if problem:
            raise ValidationError(problem)


class SetPasswordForm(NewPasswordMixin, RelaisForm):
    password = PasswordField(_l("Nouveau mot de passe"), validators=[DataRequired(_l("Choisissez un mot de passe."))],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Confirmez le mot de passe"),
                            validators=[DataRequired(_l("Confirmez le mot de passe.")),
                                        EqualTo("password", _l("Les deux mots de passe ne correspondent pas."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Enregistrer le mot de passe"))


class RegistrationForm(NewPasswordMixin, RelaisForm):
    full_name = StringField(_l("Nom et prénom"), validators=[DataRequired(_l("Indiquez votre nom.")),
                                                            Length(max=120)],
                            render_kw={"autocomplete": "name"})
    email = EmailField(_l("Adresse e-mail professionnelle"),
                       validators=[DataRequired(_l("Saisissez votre adresse e-mail.")),
                                   Email(_l("Adresse e-mail invalide.")), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    phone = StringField(_l("Téléphone"), validators=[Length(max=30)], render_kw={"autocomplete": "tel"})
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(_l("Choisissez un mot de passe."))],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Confirmez le mot de passe"),
                            validators=[DataRequired(_l("Confirmez le mot de passe.")),
                                        EqualTo("password", _l("Les deux mots de passe ne correspondent pas."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Créer mon compte"))

    @property
    def personal_words(self) -> tuple[str, ...]:
        name_parts = tuple((self.full_name.data or "").split())
        return (*name_parts, (self.email.data or "").split("@")[0])


class EndSessionForm(RelaisForm):
    """Ends one of the person's sessions, or all the others (its CSRF token is the whole form)."""

    submit = SubmitField(_l("Terminer cette session"))


class SecondFactorForm(RelaisForm):
    """The code of the authenticator app (or a recovery code) after the password of a coordinator or admin."""

    code = StringField(_l("Code de vérification"), validators=[DataRequired(_l("Saisissez le code.")),
                                                             Length(max=40)],
                       description=_l("Les 6 chiffres affichés par votre application d'authentification, ou l'un de "
                                      "vos codes de secours."),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off",
                                  "spellcheck": "false"})
    submit = SubmitField(_l("Valider"))


class EnrolSecondFactorForm(RelaisForm):
    code = StringField(_l("Code affiché par l'application"),
                       validators=[DataRequired(_l("Saisissez le code.")), Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Activer la double authentification"))


class SignInSettingsForm(RelaisForm):
    sso_required = BooleanField(_l("Exiger la connexion unique pour les coordinations et les "
                                   "administrateurs"),
                                description=_l("Leur mot de passe est alors refusé ; les établissements et les "
                                               "formateurs gardent le choix."))
    submit = SubmitField(_l("Enregistrer"))


class ResetSecondFactorForm(RelaisForm):
    email = EmailField(_l("Adresse e-mail de la personne"),
                       validators=[DataRequired(_l("Saisissez une adresse e-mail.")),
                                   Email(_l("Adresse e-mail invalide.")), Length(max=254)])
    submit = SubmitField(_l("Réinitialiser sa double authentification"))
