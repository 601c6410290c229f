"""Forms of the list, contact, import and suppression pages (parsing and field checks only)."""

from __future__ import annotations

from django import forms

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.importing.readers import megabytes
from campaigns.importing.sniff import COMMON_ENCODINGS
from campaigns.models import ContactList, Import


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
