"""The Delivery section: sites with their limits and live state, presets, queues, workers."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from delivery.domains import InvalidDomainError
from delivery.forms import SiteLookupForm, SiteSettingForm
from delivery.presets import limits_for
from delivery.selectors.queues import queue_depths, workers_alive
from delivery.selectors.sites import SitesPage, preset_rows, site_overview, sites_page
from delivery.services import sites as services


def delivery_index(request):
    search = request.GET.get("q", "").strip()
    page = sites_page(search)
    return render(
        request,
        "delivery/site_index.html",
        {
            "page": page,
            "search": search,
            "configurable": _unseen_site(search, page),
            "queues": queue_depths(),
            "workers": workers_alive(),
            "capture": settings.EDM_DELIVERY_MODE == "capture",
        },
    )


def site_detail(request, site: str):
    name = _site(site)
    if name != site:
        return redirect("delivery:site_detail", name)
    overview = site_overview(site)
    preset_limits = limits_for(site)
    form = SiteSettingForm(
        request.POST or None,
        initial=SiteSettingForm.initial_from(overview.setting),
        limits=preset_limits,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.site_setting_save(site, **form.cleaned_data)
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Limits of {site} saved.")
            return redirect("delivery:site_detail", site)
    return render(
        request,
        "delivery/site_detail.html",
        {"overview": overview, "preset_limits": preset_limits, "form": form},
    )


@require_POST
def site_resume(request, site: str):
    name = _site(site)
    services.site_resume(name)
    messages.success(request, f"{name} resumed: its batches go out at its configured pace.")
    if request.POST.get("back") == "site":
        return redirect("delivery:site_detail", name)
    return redirect("delivery:delivery_index")


def site_presets(request):
    return render(request, "delivery/site_presets.html", {"rows": preset_rows()})


def _unseen_site(search: str, page: SitesPage) -> str | None:
    """The site the search names when it is a domain not on the page: offer to configure it."""
    lookup = SiteLookupForm({"site": search})
    if not search or not lookup.is_valid():
        return None
    site = lookup.cleaned_data["site"]
    return None if site in {overview.site for overview in page.sites} else site


def _site(text: str) -> str:
    try:
        return services.site_name(text)
    except InvalidDomainError:
        raise Http404("No such site.") from None
