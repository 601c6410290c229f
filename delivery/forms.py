"""Forms of the delivery pages (parsing and field checks only)."""

from __future__ import annotations

from django import forms

from delivery.bounces import Reason
from delivery.selectors.bounces import BounceFilters

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
