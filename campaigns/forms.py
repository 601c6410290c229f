"""Forms of the list, contact, import and suppression pages (parsing and field checks only)."""

from __future__ import annotations

import re

from django import forms

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.importing.readers import megabytes
from campaigns.importing.sniff import COMMON_ENCODINGS
from campaigns.models import ContactList, Import, SignupForm


class ListForm(forms.ModelForm):
    class Meta:
        model = ContactList
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


def parse_attributes(text: str) -> dict[str, str]:
    """`key: value` lines into a dict; blank lines are skipped."""
    attributes = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip():
            raise forms.ValidationError(f"Line {number} is not “name: value”.")
        attributes[key.strip()] = value.strip()
    return attributes


class ContactForm(forms.Form):
    email = forms.CharField(max_length=254)
    name = forms.CharField(max_length=255, required=False)
    attributes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One “name: value” a line, e.g. city: Shanghai",
    )
    do_not_track = forms.BooleanField(
        required=False,
        label="Do not track",
        help_text="No tracking pixel or tracked links in this person's mail.",
    )

    def clean_email(self):
        try:
            return normalize_email(self.cleaned_data["email"]).email
        except InvalidEmailError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_attributes(self):
        return parse_attributes(self.cleaned_data["attributes"])

    @staticmethod
    def attributes_text(attributes: dict) -> str:
        return "\n".join(f"{key}: {value}" for key, value in attributes.items())


class UploadForm(forms.Form):
    file = forms.FileField(label="Contact file")

    def __init__(self, *args, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            f"CSV (comma, semicolon, tab or | separated), a CSV inside a ZIP, or Excel .xlsx; "
            f"up to {megabytes(max_bytes)}. The first row must name the columns."
        )
        self.fields["file"].widget.attrs["accept"] = ".csv,.txt,.tsv,.zip,.xlsx"


NO_COLUMN = ""


class MappingForm(forms.Form):
    encoding = forms.ChoiceField(required=False)
    email_column = forms.TypedChoiceField(coerce=int, label="Email address column")
    name_column = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Name column"
    )
    attribute_columns = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Columns kept as attributes",
    )
    mode = forms.ChoiceField(choices=Import.Mode.choices, widget=forms.RadioSelect)

    def __init__(self, *args, names: list[str], detected: str, **kwargs):
        super().__init__(*args, **kwargs)
        columns = [(str(index), name) for index, name in enumerate(names)]
        self.fields["email_column"].choices = [(NO_COLUMN, "— choose —"), *columns]
        self.fields["email_column"].error_messages["required"] = (
            "Choose the column that holds the email addresses."
        )
        self.fields["name_column"].choices = [(NO_COLUMN, "— none —"), *columns]
        self.fields["attribute_columns"].choices = columns
        encodings = dict(COMMON_ENCODINGS)
        if detected and detected not in encodings:
            encodings = {detected: detected, **encodings}
        self.fields["encoding"].choices = [
            (code, f"{label} (detected)" if code == detected else label)
            for code, label in encodings.items()
        ]


_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")


class SignupFormForm(forms.ModelForm):
    """The settings of a sign-up form; its attribute fields as `key: Label` lines."""

    attribute_lines = forms.CharField(
        label="Attribute fields",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, `key: Label shown`, e.g. `city: Your city`.",
    )

    class Meta:
        model = SignupForm
        fields = [
            "name",
            "lists",
            "visitor_chooses_lists",
            "asks_name",
            "opt_in",
            "consent_text",
            "from_name",
            "from_email",
            "confirmation_template",
            "welcome_template",
            "active",
        ]
        widgets = {
            "lists": forms.CheckboxSelectMultiple,
            "consent_text": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"visitor_chooses_lists": "Visitors choose among these lists"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attribute_lines"].initial = "\n".join(
            f"{item['key']}: {item.get('label', '')}" for item in self.instance.attribute_fields
        )

    def clean_from_email(self) -> str:
        try:
            return normalize_email(self.cleaned_data["from_email"]).email
        except InvalidEmailError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_attribute_lines(self) -> list[dict[str, str]]:
        parsed = parse_attributes(self.cleaned_data["attribute_lines"])
        for key in parsed:
            if not _ATTRIBUTE_KEY.fullmatch(key):
                raise forms.ValidationError(
                    f"“{key}”: a key is 1 to 64 letters, digits or underscores."
                )
        return [{"key": key, "label": label or key} for key, label in parsed.items()]


class SegmentForm(forms.Form):
    """A segment's name and its definition, which the audience builder keeps as JSON."""

    name = forms.CharField(max_length=200)
    definition = forms.JSONField(widget=forms.Textarea(attrs={"hidden": True}))
