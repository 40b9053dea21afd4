"""All models, imported here so that Alembic and the app see the whole schema."""

from app.models.access_tokens import AccessToken, TokenScope
from app.models.accounts import CoordinatorScope, User
from app.models.audit import AuditCheckpoint, AuditEntry
from app.models.autopilot import (
    AutopilotMode,
    AutopilotNote,
    AutopilotProposal,
    AutopilotProposalItem,
    AutopilotSetting,
    HomeVisit,
)
from app.models.caldav import CalendarConnection, CalendarPush, ConnectionState, PushAction, PushStatus
from app.models.calendars import CalendarEntry, CalendarFeed
from app.models.coordination import CoordinationOffice
from app.models.enums import Force, Role
from app.models.establishments import Establishment, EstablishmentKind, JoinRequest, JoinStatus
from app.models.interventions import (
    Assignment,
    AssignmentStatus,
    Feedback,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    ReportCorrection,
    RequestEvent,
    RequestStatus,
    RequestWindow,
    SessionReport,
)
from app.models.login_sessions import LoginSession
from app.models.outbox import MessageStatus, OutgoingMessage
from app.models.reference import Audience, Topic
from app.models.retention import CorrectionRequest, InactivityWarning, RetentionSetting
from app.models.revisions import StatisticsRevision
from app.models.sso import RecoveryCode, SignInSettings
from app.models.territory import CommuneCompetence, Departement
from app.models.trainers import (
    AvailabilityException,
    AvailabilityPattern,
    ExceptionKind,
    Trainer,
    Unit,
    UnitKind,
)
from app.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookSubscription

__all__ = [
    "AuditCheckpoint",
    "AuditEntry",
    "AccessToken",
    "TokenScope",
    "AutopilotMode",
    "AutopilotNote",
    "AutopilotProposal",
    "AutopilotProposalItem",
    "AutopilotSetting",
    "HomeVisit",
    "StatisticsRevision",
    "CorrectionRequest",
    "InactivityWarning",
    "RetentionSetting",
    "CalendarConnection",
    "CalendarPush",
    "ConnectionState",
    "PushAction",
    "PushStatus",
    "CalendarEntry",
    "CalendarFeed",
    "Assignment",
    "AssignmentStatus",
    "Intervention",
    "InterventionRequest",
    "InterventionStatus",
    "ReportCorrection",
    "RequestEvent",
    "RequestStatus",
    "RequestWindow",
    "SessionReport",
    "Audience",
    "AvailabilityException",
    "AvailabilityPattern",
    "CommuneCompetence",
    "CoordinationOffice",
    "CoordinatorScope",
    "Departement",
    "Establishment",
    "EstablishmentKind",
    "ExceptionKind",
    "Feedback",
    "JoinRequest",
    "JoinStatus",
    "LoginSession",
    "RecoveryCode",
    "SignInSettings",
    "Force",
    "MessageStatus",
    "OutgoingMessage",
    "Role",
    "Topic",
    "Trainer",
    "Unit",
    "UnitKind",
    "User",
    "DeliveryStatus",
    "WebhookDelivery",
    "WebhookSubscription",
]
