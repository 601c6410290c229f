"""The form a visitor fills in: built from a SignupForm, the same on the hosted page and in
the snippet pasted into other sites.

Besides the visible fields it has two hidden ones: `stamp`, the signed time the form was
shown (campaigns/signup_tokens.py), and `website`, a honeypot in a `hidden` paragraph (the
attribute needs no style sheet, so it holds in a snippet on a site with CSS of its own):
people never see it, robots that fill every field do.
"""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.template.loader import render_to_string

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.models import SignupForm
from campaigns.signup_tokens import form_stamp, form_url

HONEYPOT = "website"
STAMP = "stamp"
ATTRIBUTE_PREFIX = "attr_"
MAX_VALUE_LENGTH = 200


class SignupEntry(forms.Form):
    email = forms.CharField(label="Email address", max_length=254)

    def __init__(self, signup_form: SignupForm, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.signup_form = signup_form
        self.fields["email"].widget.attrs.update({"type": "email", "autocomplete": "email"})
        if signup_form.asks_name:
            self.fields["name"] = forms.CharField(
                label="Name", max_length=MAX_VALUE_LENGTH, required=False
            )
            self.fields["name"].widget.attrs["autocomplete"] = "name"
        for item in signup_form.attribute_fields:
            self.fields[ATTRIBUTE_PREFIX + item["key"]] = forms.CharField(
                label=item.get("label") or item["key"], max_length=MAX_VALUE_LENGTH, required=False
            )
        self.lists = list(signup_form.lists.all())
        if signup_form.visitor_chooses_lists:
            self.fields["lists"] = forms.TypedMultipleChoiceField(
                label="Lists",
                choices=[(item.pk, item.name) for item in self.lists],
                coerce=int,
                widget=forms.CheckboxSelectMultiple,
                error_messages={"required": "Choose at least one list."},
            )
        self.fields[HONEYPOT] = forms.CharField(
            label="Leave this field empty", required=False, max_length=MAX_VALUE_LENGTH
        )
        self.fields[HONEYPOT].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        self.fields[STAMP] = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_email(self) -> str:
        try:
            return normalize_email(self.cleaned_data["email"]).email
        except InvalidEmailError as exc:
            raise forms.ValidationError(str(exc)) from None

    @property
    def visible_fields_but_honeypot(self):
        return [field for field in self.visible_fields() if field.name != HONEYPOT]

    @property
    def honeypot(self):
        return self[HONEYPOT]

    @property
    def stamp(self):
        return self[STAMP]

    def chosen_list_ids(self) -> list[int]:
        if self.signup_form.visitor_chooses_lists:
            return list(self.cleaned_data["lists"])
        return [item.pk for item in self.lists]

    def attributes(self) -> dict[str, str]:
        """The attribute fields the visitor filled in, by key."""
        return {
            key[len(ATTRIBUTE_PREFIX) :]: value.strip()
            for key, value in self.cleaned_data.items()
            if key.startswith(ATTRIBUTE_PREFIX) and value.strip()
        }


def embed_snippet(signup_form: SignupForm) -> str:
    """The form as plain HTML for another site: no script, no style sheet needed.

    Its stamp is made now; once older than EDM_FORM_MAX_AGE_HOURS a submission from it is
    shown again on the hosted page to be sent once more (campaigns/views/signup_public.py).
    """
    entry = SignupEntry(
        signup_form, initial={STAMP: form_stamp(signup_form.public_id, time.time())}
    )
    return render_to_string(
        "campaigns/public/_signup_fields.html",
        {
            "form": signup_form,
            "entry": entry,
            "action": form_url(settings.EDM_PUBLIC_URL, signup_form.public_id),
        },
    ).strip()
