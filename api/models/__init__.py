"""The service's data, one model family per entity (the FastAPI full-stack template's shape).

Each module holds one entity's family: the table (``X``, SQLModel ``table=True``), what a
request may send (``XCreate``, ``XUpdate`` for a PATCH) and what a response shows (``XPublic``).
The fields are declared once, in ``XBase``, which both the table and ``XCreate`` extend; their
types name :mod:`matcher.format.bounds`, so whatever is stored makes a valid week's problem.
Importing this package registers every table (alembic's ``env.py`` relies on it).

The hierarchy follows the service plan: volunteer centre > service stations > teams > groups.
Volunteers, beneficiaries and needs carry the exchange-format fields plus what a station keeps
about them (names, team and group, a minor's guardian consent).  Weekly plans are versions:
version 1 is generated, each change set makes the next one by re-solve.
"""

from __future__ import annotations

from api.models.audit import ACTOR_KINDS, AuditEntry, AuditPublic
from api.models.beneficiary import (
    Beneficiary,
    BeneficiaryBase,
    BeneficiaryCreate,
    BeneficiaryListItem,
    BeneficiaryPublic,
    BeneficiaryUpdate,
)
from api.models.calendar import CalendarFeed, CalendarFeedCreated, CalendarFeedPublic
from api.models.certificate import CertificateCheck, ServiceCertificate
from api.models.common import utcnow
from api.models.hierarchy import (
    Centre,
    District,
    GroupPublic,
    Station,
    StationPublic,
    Team,
    TeamPublic,
    VolunteerGroup,
)
from api.models.need import Need, NeedBase, NeedCreate, NeedPublic, NeedUpdate
from api.models.outbox import RECIPIENT_KINDS, MessagePublic, OutboxMessage
from api.models.plan import (
    JOB_STATES,
    AssignmentPublic,
    DiffEntry,
    JobProgress,
    PlanAssignment,
    PlanDiff,
    PlanPublic,
    PlanRequest,
    PlanUnmet,
    PlanVersion,
    QueuedJob,
    SessionPublic,
    StandinPublic,
    SwapRequest,
)
from api.models.record import (
    OUTCOMES,
    Correction,
    Outcome,
    RecordCreate,
    RecordPublic,
    Reliability,
    ServiceRecord,
)
from api.models.simulation import (
    MAX_RUNS,
    SIMULATION_STATES,
    ScenarioPublic,
    Simulation,
    SimulationProgress,
    SimulationPublic,
    SimulationRequest,
)
from api.models.site import Site, SiteBase, SiteCreate, SitePublic, SiteUpdate
from api.models.spreadsheet import ImportErrors, ImportResult
from api.models.token import Token, TokenCreate, TokenCreated, TokenPublic
from api.models.volunteer import (
    Certificate,
    Volunteer,
    VolunteerBase,
    VolunteerCreate,
    VolunteerListItem,
    VolunteerPublic,
    VolunteerUpdate,
)
from api.models.webhook import (
    DELIVERY_STATES,
    AttemptPublic,
    Delivery,
    DeliveryAttempt,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookEndpoint,
    WebhookPublic,
)

__all__ = [
    "ACTOR_KINDS",
    "DELIVERY_STATES",
    "JOB_STATES",
    "MAX_RUNS",
    "OUTCOMES",
    "RECIPIENT_KINDS",
    "SIMULATION_STATES",
    "AssignmentPublic",
    "AttemptPublic",
    "AuditEntry",
    "AuditPublic",
    "Beneficiary",
    "BeneficiaryBase",
    "BeneficiaryCreate",
    "BeneficiaryListItem",
    "BeneficiaryPublic",
    "BeneficiaryUpdate",
    "CalendarFeed",
    "CalendarFeedCreated",
    "CalendarFeedPublic",
    "Centre",
    "Certificate",
    "CertificateCheck",
    "Correction",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryPublic",
    "DiffEntry",
    "District",
    "GroupPublic",
    "ImportErrors",
    "ImportResult",
    "JobProgress",
    "MessagePublic",
    "Need",
    "NeedBase",
    "NeedCreate",
    "NeedPublic",
    "NeedUpdate",
    "OutboxMessage",
    "Outcome",
    "PlanAssignment",
    "PlanDiff",
    "PlanPublic",
    "PlanRequest",
    "PlanUnmet",
    "PlanVersion",
    "QueuedJob",
    "RecordCreate",
    "RecordPublic",
    "Reliability",
    "ScenarioPublic",
    "ServiceCertificate",
    "ServiceRecord",
    "SessionPublic",
    "Simulation",
    "SimulationProgress",
    "SimulationPublic",
    "SimulationRequest",
    "Site",
    "SiteBase",
    "SiteCreate",
    "SitePublic",
    "SiteUpdate",
    "StandinPublic",
    "Station",
    "StationPublic",
    "SwapRequest",
    "Team",
    "TeamPublic",
    "Token",
    "TokenCreate",
    "TokenCreated",
    "TokenPublic",
    "Volunteer",
    "VolunteerBase",
    "VolunteerCreate",
    "VolunteerGroup",
    "VolunteerListItem",
    "VolunteerPublic",
    "VolunteerUpdate",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookEndpoint",
    "WebhookPublic",
    "utcnow",
]
