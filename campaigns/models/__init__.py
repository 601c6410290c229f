"""Models of the campaigns app, one module per concept; import them from here."""

from campaigns.models.campaigns import Campaign
from campaigns.models.consents import Consent
from campaigns.models.contacts import Contact, ContactList, Membership
from campaigns.models.data_rights import DataRightsAction
from campaigns.models.imports import Import, ImportRejection, ImportWarning
from campaigns.models.segments import Segment
from campaigns.models.signup_forms import SignupForm
from campaigns.models.suppressions import Suppression
from campaigns.models.templates import Template
from campaigns.models.unsubscribes import Unsubscribe

__all__ = [
    "Campaign",
    "Consent",
    "Contact",
    "ContactList",
    "DataRightsAction",
    "Import",
    "ImportRejection",
    "ImportWarning",
    "Membership",
    "Segment",
    "SignupForm",
    "Suppression",
    "Template",
    "Unsubscribe",
]
