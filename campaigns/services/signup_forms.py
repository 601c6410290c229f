"""Creating and changing sign-up forms (the dashboard's Forms page)."""

from __future__ import annotations

from django.db import transaction

from campaigns.forms import SignupFormForm
from campaigns.models import SignupForm


def signup_form_save(form: SignupFormForm) -> SignupForm:
    """Save a valid settings form, its lists and attribute fields together."""
    with transaction.atomic():
        signup_form = form.save(commit=False)
        signup_form.attribute_fields = form.cleaned_data["attribute_lines"]
        signup_form.save()
        form.save_m2m()
    return signup_form
