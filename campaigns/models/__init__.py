"""Models of the campaigns app, one module per concept; import them from here."""

from campaigns.models.campaigns import Campaign
from campaigns.models.contacts import Contact, ContactList, Membership
from campaigns.models.imports import Import, ImportRejection, ImportWarning
from campaigns.models.suppressions import Suppression
from campaigns.models.templates import Template
from campaigns.models.unsubscribes import Unsubscribe

__all__ = [
    "Campaign",
    "Contact",
    "ContactList",
    "Import",
    "ImportRejection",
    "ImportWarning",
    "Membership",
    "Suppression",
    "Template",
    "Unsubscribe",
]
