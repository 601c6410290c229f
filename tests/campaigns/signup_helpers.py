"""Builders for sign-up form tests: a form, and a submission as a browser would send it."""

from __future__ import annotations

import re
import time

from campaigns.models import SignupForm
from campaigns.signup_tokens import form_stamp

STAMP_FIELD = re.compile(r'name="stamp" value="([^"]+)"')


def make_signup_form(lists, **fields) -> SignupForm:
    values = {
        "name": "Newsletter sign-up",
        "from_name": "Shop",
        "from_email": "news@shop.example",
        "consent_text": "Yes, send me the weekly newsletter.",
        **fields,
    }
    form = SignupForm.objects.create(**values)
    form.lists.set(lists)
    return form


def aged_stamp(form: SignupForm, seconds: float = 10) -> str:
    """A stamp as if the page had been shown `seconds` ago (signed like a real one)."""
    return form_stamp(form.public_id, time.time() - seconds)


def submit(
    client,
    form: SignupForm,
    email: str,
    *,
    stamp: str | None = None,
    ip: str = "203.0.113.7",
    user_agent: str = "Phone/1.0",
    **fields,
):
    """POST the hosted form as a person who took ten seconds to fill it in."""
    data = {"email": email, "website": "", "stamp": aged_stamp(form) if stamp is None else stamp}
    data.update(fields)
    return client.post(f"/f/{form.public_id}/", data, REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent)
