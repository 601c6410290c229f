"""The Settings section: sender domains and their DKIM keys, DNS checks, delivery settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from delivery.forms import SenderDomainForm
from delivery.models import SenderDomain
from delivery.selectors.sender_domains import (
    sender_domain_detail,
    sender_domain_summaries,
    unsigned_domains,
)
from delivery.services import sender_domains as services


def settings_index(request, form: SenderDomainForm | None = None):
    return render(
        request,
        "delivery/settings_index.html",
        {
            "summaries": sender_domain_summaries(),
            "unsigned": unsigned_domains(),
            "form": form or SenderDomainForm(),
            "environment": _environment(),
        },
    )


@require_POST
def settings_domain_add(request):
    form = SenderDomainForm(request.POST)
    if form.is_valid():
        try:
            sender = services.sender_domain_add(form.cleaned_data["domain"])
        except services.SenderDomainExistsError as exc:
            form.add_error("domain", str(exc))
        else:
            messages.success(
                request,
                f"A DKIM key was made for {sender.domain}. Publish its TXT record, then check DNS.",
            )
            return redirect("delivery:settings_domain", sender.pk)
    return settings_index(request, form)


def settings_domain(request, pk: int):
    sender = get_object_or_404(SenderDomain, pk=pk)
    return render(
        request, "delivery/settings_domain.html", {"detail": sender_domain_detail(sender)}
    )


@require_POST
def settings_domain_check(request, pk: int):
    sender = get_object_or_404(SenderDomain, pk=pk)
    services.sender_domain_check_enqueue(sender)
    messages.info(request, f"Asking DNS about {sender.domain}; the results appear here.")
    return redirect("delivery:settings_domain", sender.pk)


def settings_domain_rotate(request, pk: int):
    sender = get_object_or_404(SenderDomain, pk=pk)
    if request.method == "POST":
        services.sender_domain_rotate(sender)
        messages.success(
            request,
            f"New key under selector {sender.selector}: publish its TXT record now, "
            "messages are signed with it within a minute.",
        )
        return redirect("delivery:settings_domain", sender.pk)
    return render(
        request, "delivery/settings_domain_confirm.html", {"sender": sender, "action": "rotate"}
    )


def settings_domain_delete(request, pk: int):
    sender = get_object_or_404(SenderDomain, pk=pk)
    if request.method == "POST":
        services.sender_domain_delete(sender)
        messages.success(
            request, f"{sender.domain}'s key was deleted; messages from it go out unsigned."
        )
        return redirect("settings")
    return render(
        request, "delivery/settings_domain_confirm.html", {"sender": sender, "action": "delete"}
    )


def _environment() -> list[tuple[str, str, str]]:
    """(what, value, variable) of the delivery settings read from the environment."""
    relay = urlsplit(settings.EDM_RELAY_URL) if settings.EDM_RELAY_URL else None
    # The relay's host only: the URL carries its password.
    relay_host = f"{relay.hostname}{f':{relay.port}' if relay.port else ''}" if relay else "—"
    nameservers = ", ".join(f"{ip}:{port}" for ip, port in settings.EDM_DNS_NAMESERVERS)
    return [
        ("Delivery mode", settings.EDM_DELIVERY_MODE, "EDM_DELIVERY_MODE"),
        ("Relay", relay_host, "EDM_RELAY_URL"),
        ("HELO name", settings.EDM_HELO_NAME or "the machine's name", "EDM_HELO_NAME"),
        ("Bounce domain", settings.EDM_BOUNCE_DOMAIN, "EDM_BOUNCE_DOMAIN"),
        ("Source address", settings.EDM_SOURCE_ADDRESS or "the system's", "EDM_SOURCE_ADDRESS"),
        ("SMTP port for MX delivery", str(settings.EDM_SMTP_PORT), "EDM_SMTP_PORT"),
        ("DNS nameservers", nameservers or "the system resolver", "EDM_DNS_NAMESERVERS"),
        ("Public URL", settings.EDM_PUBLIC_URL, "EDM_PUBLIC_URL"),
    ]
