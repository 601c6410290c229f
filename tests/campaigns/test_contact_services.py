"""The contact services call an address taken only when it is."""

import pytest
from django.db import DatabaseError

from campaigns.services import contacts as contact_services
from campaigns.services.contacts import ContactExistsError
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_a_database_refusal_of_attributes_on_create_is_not_called_contact_exists():
    # NaN is not JSON: SQLite's JSON check constraint refuses it (IntegrityError), PostgreSQL's
    # jsonb too (DataError). Neither means the address is taken.
    with pytest.raises(DatabaseError):
        contact_services.contact_create(email="new@a.example", attributes={"score": float("nan")})


def test_a_database_refusal_of_attributes_on_update_is_not_called_contact_exists():
    contact = make_contact("kept@a.example")
    with pytest.raises(DatabaseError):
        contact_services.contact_update(
            contact, email=contact.email, name="", attributes={"score": float("inf")}
        )


def test_an_address_taken_by_another_contact_is_contact_exists():
    make_contact("taken@a.example")
    with pytest.raises(ContactExistsError):
        contact_services.contact_create(email="taken@a.example")
    other = make_contact("other@a.example")
    with pytest.raises(ContactExistsError):
        contact_services.contact_update(other, email="taken@a.example", name="", attributes={})
