"""The REST API at /api/: routers of each app, token auth, the rate limit, one error shape.

OpenAPI at /api/openapi.json, interactive docs at /api/docs (Swagger UI from django-ninja's
own static files: nothing is fetched from a CDN). See README's "API" section.
"""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, path, re_path, reverse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger

from campaigns.api import (
    campaigns,
    contacts,
    imports,
    lists,
    segments,
    signup_forms,
    suppressions,
    templates,
)
from campaigns.emails import InvalidEmailError
from campaigns.importing.errors import BadFileError
from campaigns.segments.definition import SegmentInvalidError
from campaigns.services.campaigns import CampaignInvalidError, CampaignStateError
from campaigns.services.contacts import ContactErasedError, ContactExistsError
from campaigns.services.imports import ImportConflictError, ImportStateError
from campaigns.services.lists import ListNameTakenError
from campaigns.services.segments import SegmentInUseError
from campaigns.services.templates import TemplateInUseError, TemplateInvalidError
from delivery.api import reports, tx
from delivery.tx.accept import IdempotencyKeyReusedError, TxInvalidError, TxTooLargeError
from edm.rest import account, errors
from edm.rest.auth import TokenAuth
from edm.rest.parser import JsonBodyParser
from edm.rest.ratelimit import TokenRateLimit

DESCRIPTION = """\
Everything the dashboard does, over HTTP. Authenticate every request with an API token from
the Settings page: `Authorization: Bearer <token>`. Lists are cursor-paginated: pass a page's
`next` as `after` for the next one. Errors answer `{"error": {"code", "message", "fields"}}`.
"""

# Service errors and the status they answer; their message is the user's message.
DOMAIN_ERRORS = {
    CampaignStateError: 409,
    ImportStateError: 409,
    ImportConflictError: 409,
    ListNameTakenError: 409,
    ContactExistsError: 409,
    ContactErasedError: 409,
    TemplateInUseError: 409,
    SegmentInUseError: 409,
    CampaignInvalidError: 422,
    TemplateInvalidError: 422,
    SegmentInvalidError: 422,
    BadFileError: 422,
    InvalidEmailError: 422,  # routers name the field; this answers any they do not catch
    TxInvalidError: 422,
    IdempotencyKeyReusedError: 422,
    TxTooLargeError: 413,
}


class EdmApi(NinjaAPI):
    """NinjaAPI whose OpenAPI schema documents the error answers every operation may give."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        return errors.document(schema)


def build() -> NinjaAPI:
    """A new API object with every router mounted."""
    api = EdmApi(
        title="EDM API",
        version="1",
        description=DESCRIPTION,
        auth=TokenAuth(),
        throttle=TokenRateLimit(),
        parser=JsonBodyParser(),
        docs=Swagger(settings={"persistAuthorization": False}),
        urls_namespace="api",
    )
    errors.install(api, DOMAIN_ERRORS)
    api.add_router("", account.router)
    api.add_router("/lists", lists.router)
    api.add_router("/contacts", contacts.router)
    api.add_router("/imports", imports.router)
    api.add_router("/suppressions", suppressions.router)
    api.add_router("/templates", templates.router)
    api.add_router("/segments", segments.router)
    api.add_router("/campaigns", campaigns.router)
    api.add_router("", signup_forms.router)
    api.add_router("", reports.router)
    api.add_router("", tx.router)
    return api


api = build()


def urls() -> list[URLPattern | URLResolver]:
    """The API's URL patterns for edm/urls.py, outside the dashboard's login requirement
    (the API authenticates by token), then a JSON 404 for anything else under /api/."""
    patterns, _app, _namespace = api.urls
    # ninja's own root raises Http404 as an HTML page; ours says where the docs are. The name
    # stays: ninja finds the API's prefix by reversing it.
    patterns = [p for p in patterns if getattr(p, "name", None) != "api-root"]
    _exempt(patterns)
    # [\s\S], not ".": a path with an encoded line break is still ours to answer.
    anything = re_path(r"^[\s\S]*$", _not_found)
    return [*patterns, path("", _index, name="api-root"), anything]


def _exempt(patterns) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _exempt(pattern.url_patterns)
        else:
            pattern.callback = _json_not_allowed(login_not_required(pattern.callback))


def _json_not_allowed(view):
    """ninja answers a method a path does not have with a plain-text 405; ours keeps the
    error shape (and the Allow header)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        allowed = response.headers.get("Allow", "")
        answer = errors.error_response(
            api, request, 405, f"{request.method} is not allowed here; use {allowed}."
        )
        answer.headers["Allow"] = allowed
        return answer

    return wrapped


@csrf_exempt  # like every API view: no cookie authenticates here, so there is no CSRF
@login_not_required
def _index(request: HttpRequest):
    return JsonResponse(
        {"docs": reverse("api:openapi-view"), "openapi": reverse("api:openapi-json")}
    )


@csrf_exempt
@login_not_required
def _not_found(request: HttpRequest):
    return errors.error_response(api, request, 404, f"No API operation at {request.path}.")
