"""The API's one error shape, and the exceptions routers raise to produce it.

Every error answers

    {"error": {"code": "invalid", "message": "…", "fields": {"contacts.3.email": ["…"]}}}

with the status of its code: 400 bad_request, 401 unauthorized, 403 forbidden, 404 not_found,
405 method_not_allowed, 409 conflict, 413 too_large, 422 invalid, 429 rate_limited
(500 internal for our bugs; webhooks also answer 502 upstream_failed, 503 unavailable).
`fields` names the input that was wrong, as a dotted path into the body or the query/path
parameter's name; it is empty when no single field is to blame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from edm.rest.types import WITHIN

logger = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    502: "upstream_failed",
    503: "unavailable",
}
Fields = dict[str, list[str]]


class ErrorDetail(Schema):
    code: str
    message: str
    fields: Fields = {}


class ErrorOut(Schema):
    error: ErrorDetail


class ApiError(Exception):
    """An answer with the error shape; subclasses fix the status."""

    status = 400

    def __init__(self, message: str, fields: Mapping[str, Iterable[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields: Fields = {
            name: [str(m) for m in found] for name, found in (fields or {}).items()
        }


class BadRequest(ApiError):
    status = 400


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class TooLarge(ApiError):
    status = 413


class Invalid(ApiError):
    status = 422


# The error answers any operation may give (documented on each in the OpenAPI schema).
DOCUMENTED = {
    400: "The request cannot be read (body, header).",
    401: "No valid API token.",
    403: "The token may not do this (read-only).",
    404: "Nothing at this address.",
    409: "Conflicts with the current state (a name in use, a campaign not in draft…).",
    413: "The request or a file in it is too large.",
    422: "Some input is not valid; `fields` says which.",
    429: "Too many requests for this token; see Retry-After.",
}


def document(schema: dict) -> dict:
    """The OpenAPI schema with the error shape among its components and every error answer
    (DOCUMENTED) on every operation."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_out = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in error_out.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components["ErrorOut"] = error_out
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            for status, description in DOCUMENTED.items():
                answers.setdefault(str(status), {"description": description, "content": content})
    return schema


def error_body(status: int, message: str, fields: Fields | None = None) -> dict:
    """The error shape, its code from the status (also what webhooks answer)."""
    return {
        "error": {"code": CODES.get(status, "error"), "message": message, "fields": fields or {}}
    }


def error_response(
    api: NinjaAPI, request: HttpRequest, status: int, message: str, fields: Fields | None = None
) -> HttpResponse:
    """An answer in the error shape, its code from the status."""
    return api.create_response(request, error_body(status, message, fields), status=status)


def install(api: NinjaAPI, domain_errors: Mapping[type[Exception], int]) -> None:
    """Answer every exception in the error shape; `domain_errors` maps service errors to statuses
    (their message is the user's message, and a `problems` mapping, if any, the fields)."""

    def handler(status: int) -> Callable:
        def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
            problems = getattr(exc, "problems", None) or {}
            fields = {str(k): [str(p) for p in found] for k, found in problems.items()}
            return error_response(api, request, status, str(exc), fields)

        return handle

    api.add_exception_handler(
        ApiError,
        lambda request, exc: error_response(api, request, exc.status, exc.message, exc.fields),
    )
    api.add_exception_handler(ValidationError, lambda request, exc: _invalid(api, request, exc))
    api.add_exception_handler(HttpError, lambda request, exc: _http_error(api, request, exc))
    api.add_exception_handler(
        Http404, lambda request, exc: error_response(api, request, 404, "Not found.")
    )
    api.add_exception_handler(
        ObjectDoesNotExist, lambda request, exc: error_response(api, request, 404, "Not found.")
    )
    api.add_exception_handler(
        RequestDataTooBig,
        lambda request, exc: error_response(api, request, 413, "The request body is too large."),
    )
    api.add_exception_handler(
        IntegrityError,
        lambda request, exc: error_response(
            api, request, 409, "This conflicts with an existing record (a name already in use?)."
        ),
    )
    api.add_exception_handler(
        ProtectedError,
        lambda request, exc: error_response(
            api, request, 409, "Other records still use this one; change them first."
        ),
    )
    for exception, status in domain_errors.items():
        api.add_exception_handler(exception, handler(status))
    api.add_exception_handler(Exception, lambda request, exc: _internal(api, request, exc))


def _invalid(api: NinjaAPI, request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: Fields = {}
    for error in exc.errors:
        # An Input validator says where inside the field the wrong value is (types.WITHIN).
        location = (*error.get("loc", ()), *error.get("ctx", {}).get(WITHIN, ()))
        fields.setdefault(_field_name(location), []).append(error.get("msg", "invalid"))
    names = ", ".join(sorted(fields))
    return error_response(api, request, 422, f"Some input is not valid: {names}.", fields)


def _field_name(location: Iterable) -> str:
    """("body", "payload", "contacts", 3, "email") -> "contacts.3.email"; ("query", "limit") ->
    "limit". A body's second element is the name of the view's parameter, not of the input."""
    parts = [str(part) for part in location]
    if parts[:1] == ["body"]:
        parts = parts[2:] or ["body"]
    elif parts[:1] in (["query"], ["path"], ["header"], ["form"], ["file"]):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _http_error(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        response = error_response(
            api,
            request,
            401,
            "Authenticate with an API token: send 'Authorization: Bearer <token>' "
            "(tokens are made on the Settings page).",
        )
        response["WWW-Authenticate"] = 'Bearer realm="edm"'
        return response
    if isinstance(exc, Throttled):
        return error_response(
            api, request, 429, "Too many requests for this token; wait and try again."
        )
    return error_response(api, request, exc.status_code, str(exc))


def _internal(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(api, request, 500, "Something went wrong on our side; it was logged.")
