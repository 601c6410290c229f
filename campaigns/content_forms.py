"""Forms of the template and campaign pages (parsing and field checks only).

Template sources are checked by the services (templating.validate), which report errors by
line and column; the forms keep sources exactly as typed (no stripping, which would shift
those lines) except that the browser's CRLF line ends become LF.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache

from django import forms

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.models import Campaign, Contact, ContactList, Segment, Template
from campaigns.previews import LAYOUT_SAMPLE_BODY, SLOT
from campaigns.segments.definition import EVERYONE
from campaigns.templating import Content


class SourceField(forms.CharField):
    """A template source: kept as typed, with LF line ends."""

    def __init__(self, *, textarea: bool = True, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        if textarea:
            attrs = {"rows": 16, "spellcheck": "false", "wrap": "off"}
            kwargs.setdefault("widget", forms.Textarea(attrs=attrs))
        else:
            kwargs.setdefault("widget", forms.TextInput(attrs={"spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


def _layouts(exclude: Template | None = None):
    layouts = Template.objects.filter(kind=Template.Kind.LAYOUT).order_by("name")
    return layouts.exclude(pk=exclude.pk) if exclude is not None and exclude.pk else layouts


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=200)
    layout = forms.ModelChoiceField(
        queryset=Template.objects.none(),
        required=False,
        empty_label="— no layout —",
        help_text="The HTML body is placed into the layout at its {{ content }}.",
    )
    subject = SourceField(max_length=998, textarea=False)
    html = SourceField(label="HTML")
    text = SourceField(label="Text", help_text="Leave empty to have it read from the HTML.")

    def __init__(self, *args, template: Template | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.template = template
        self.fields["layout"].queryset = _layouts(template)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = Template.objects.filter(name=name)
        if self.template is not None and self.template.pk:
            taken = taken.exclude(pk=self.template.pk)
        if taken.exists():
            raise forms.ValidationError(f"A template named “{name}” already exists.")
        return name


class ListsField(forms.ModelMultipleChoiceField):
    """Lists to tick, by name."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(queryset=ContactList.objects.order_by("name"), required=False, **kwargs)


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    from_name = forms.CharField(max_length=200, required=False, label="From name")
    from_email = forms.CharField(max_length=254, label="From address")
    reply_to = forms.CharField(max_length=254, required=False, label="Reply-To address")
    lists = ListsField(label="Send to", help_text="Contacts subscribed to any of these lists.")
    exclusion_lists = ListsField(
        label="Except", help_text="Contacts on any of these lists are left out."
    )
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.order_by("name", "pk"),
        required=False,
        empty_label="— everyone on the lists —",
        label="Only those in the segment",
        help_text="A segment narrows the lists above: it never adds anyone who is not on them.",
    )
    # The audience builder's conditions (JSON); campaign_save turns them into the segment.
    definition = forms.JSONField(required=False, widget=forms.Textarea(attrs={"hidden": True}))
    template = forms.ModelChoiceField(
        queryset=Template.objects.filter(kind=Template.Kind.MESSAGE),
        required=False,
        widget=forms.HiddenInput,
    )
    layout = forms.ModelChoiceField(
        queryset=Template.objects.filter(kind=Template.Kind.LAYOUT).order_by("name"),
        required=False,
        empty_label="— no layout —",
    )
    subject = SourceField(max_length=998, textarea=False)
    html = SourceField(label="HTML")
    text = SourceField(label="Text", help_text="Leave empty to have it read from the HTML.")
    track_opens = forms.BooleanField(
        required=False, initial=True, label="Track opens", help_text="A 1×1 image in the HTML."
    )
    track_clicks = forms.BooleanField(
        required=False,
        initial=True,
        label="Track clicks",
        help_text="Links go through this server; add data-notrack to a link to leave it alone.",
    )

    @staticmethod
    def initial_from(campaign: Campaign) -> dict:
        """The form's initial values: the campaign's (an unsaved one has no lists yet)."""
        fields = ["name", "from_name", "from_email", "reply_to", "subject", "html", "text"]
        fields += ["track_opens", "track_clicks"]
        initial = {name: getattr(campaign, name) for name in fields}
        initial |= {
            "template": campaign.template_id,
            "layout": campaign.layout_id,
            "segment": campaign.segment_id,
            "definition": campaign.segment.definition if campaign.segment_id else EVERYONE,
        }
        if campaign.pk:
            initial["lists"] = list(campaign.lists.values_list("pk", flat=True))
            initial["exclusion_lists"] = list(campaign.exclusion_lists.values_list("pk", flat=True))
        return initial


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone, by name."""
    zones = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in zones]


class ScheduleForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    time_zone = forms.ChoiceField(choices=time_zone_choices, label="Time zone")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        zone = zoneinfo.ZoneInfo(data["time_zone"])
        naive = dt.datetime.combine(data["date"], data["time"])
        at = naive.replace(tzinfo=zone)
        # A time the clocks skip (DST starts) does not exist; the round trip shows it.
        if at.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
            raise forms.ValidationError(
                f"{naive:%Y-%m-%d %H:%M} does not exist in {data['time_zone']}: the clocks "
                "skip it. Choose another time."
            )
        data["at"] = at
        return data


ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


class TestSendForm(forms.Form):
    addresses = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "you@example.com, boss@example.com"}
        ),
        help_text="Up to 10 addresses, separated by commas or new lines.",
    )

    def clean_addresses(self) -> list[str]:
        addresses = [a for a in ADDRESS_SEPARATORS.split(self.cleaned_data["addresses"]) if a]
        for address in addresses:
            try:
                normalize_email(address)
            except InvalidEmailError as exc:
                raise forms.ValidationError(f"{address}: {exc}") from None
        return addresses


# Not a pytest test class, despite its name.
TestSendForm.__test__ = False


class PreviewForm(forms.Form):
    """What the editor's live preview sends: the sources as typed and who to render for."""

    slot = forms.RegexField(regex=SLOT)
    kind = forms.ChoiceField(choices=Template.Kind.choices, required=False)
    subject = SourceField(textarea=False)
    html = SourceField()
    text = SourceField()
    layout = forms.ModelChoiceField(
        queryset=Template.objects.filter(kind=Template.Kind.LAYOUT), required=False
    )
    contact = forms.ModelChoiceField(queryset=Contact.objects.all(), required=False)
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.all(), required=False)
    name = forms.CharField(required=False)

    @property
    def is_layout(self) -> bool:
        return self.cleaned_data["kind"] == Template.Kind.LAYOUT

    def content(self) -> Content:
        """The sources to render; a layout is shown around a sample body."""
        data = self.cleaned_data
        if self.is_layout:
            return Content(subject="", html=LAYOUT_SAMPLE_BODY, layout=data["html"])
        layout = data["layout"].html if data["layout"] else ""
        return Content(data["subject"], data["html"], data["text"], layout)
