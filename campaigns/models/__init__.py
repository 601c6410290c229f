"""Models of the campaigns app, one module per concept; import them from here."""

from campaigns.models.contacts import Contact, ContactList, Membership
from campaigns.models.imports import Import, ImportRejection
from campaigns.models.suppressions import Suppression

__all__ = [
    "Contact",
    "ContactList",
    "Import",
    "ImportRejection",
    "Membership",
    "Suppression",
]
