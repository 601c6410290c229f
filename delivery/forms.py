"""Forms of the Settings, Delivery and Bounces pages (parsing and field checks only)."""

from __future__ import annotations

from django import forms

from delivery.bounces import Reason
from delivery.domains import InvalidDomainError
from delivery.limits import Rate
from delivery.models import SiteSetting
from delivery.selectors.bounces import BounceFilters
from delivery.services.sender_domains import sender_domain_name
from delivery.services.sites import site_name


class SenderDomainForm(forms.Form):
    domain = forms.CharField(
        max_length=253,
        label="Sender domain",
        help_text="The domain of your From addresses, e.g. news.shop.example.",
        widget=forms.TextInput(attrs={"placeholder": "news.shop.example", "autocomplete": "off"}),
    )

    def clean_domain(self):
        try:
            return sender_domain_name(self.cleaned_data["domain"])
        except InvalidDomainError as exc:
            raise forms.ValidationError(str(exc)) from None


class SiteLookupForm(forms.Form):
    site = forms.CharField(max_length=253)

    def clean_site(self):
        try:
            return site_name(self.cleaned_data["site"])
        except InvalidDomainError as exc:
            raise forms.ValidationError(str(exc)) from None


class SiteSettingForm(forms.Form):
    """A site's overrides; an empty field keeps the preset's value."""

    max_connections = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1000,
        label="Maximum connections",
        help_text="Open at once to this site, summed over every worker.",
    )
    messages_per_connection = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10000,
        label="Messages per connection",
        help_text="Sent on one connection before it is closed and a new one opened.",
    )
    rate = forms.CharField(
        required=False,
        max_length=32,
        label="Message rate",
        help_text="Like 100/min, 10/s, 3600/h or 50000/day.",
    )
    tls_policy = forms.ChoiceField(
        required=False,
        label="TLS policy",
        choices=[("", "— preset: opportunistic —"), *SiteSetting.TlsPolicy.choices],
    )

    def __init__(self, *args, limits=None, **kwargs):
        super().__init__(*args, **kwargs)
        if limits is not None:  # show what an empty field means
            self.fields["max_connections"].widget.attrs["placeholder"] = limits.max_connections
            self.fields["messages_per_connection"].widget.attrs["placeholder"] = (
                limits.messages_per_connection
            )
            self.fields["rate"].widget.attrs["placeholder"] = str(limits.rate or "no limit")

    def clean_rate(self):
        text = self.cleaned_data["rate"].strip()
        if not text:
            return ""
        try:
            return str(Rate.parse(text))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    @classmethod
    def initial_from(cls, setting: SiteSetting | None) -> dict:
        if setting is None:
            return {}
        return {
            "max_connections": setting.max_connections,
            "messages_per_connection": setting.messages_per_connection,
            "rate": setting.rate,
            "tls_policy": setting.tls_policy,
        }


TYPE_CHOICES = [
    ("", "Any type"),
    ("hard", "Hard bounces"),
    ("soft", "Soft bounces"),
    ("sender", "About the sender"),
    ("complaint", "Complaints"),
]


class BounceFilterForm(forms.Form):
    """The filters of the Bounces page; a field that does not parse is left out."""

    campaign = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    reason = forms.ChoiceField(required=False)
    type = forms.ChoiceField(choices=TYPE_CHOICES, required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, *, campaigns: list[tuple[int, str]]):
        super().__init__(data)
        self.fields["campaign"].choices = [("", "All campaigns"), *campaigns]
        self.fields["reason"].choices = [("", "Any reason")] + [(r.value, r.value) for r in Reason]

    def filters(self) -> BounceFilters:
        """The filters that parse; the others are left out."""
        self.is_valid()
        values = {
            name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors
        }
        return BounceFilters(
            campaign_id=values.get("campaign"),
            reason=values.get("reason") or "",
            type=values.get("type") or "",
            since=values.get("since"),
            until=values.get("until"),
        )
