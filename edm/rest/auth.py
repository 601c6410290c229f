"""Bearer-token authentication: `Authorization: Bearer <token>`, and nothing else.

A session cookie is never accepted in its place: the API has no CSRF protection to lean on,
and a program should not act with a person's browser login. A read-only token may read; any
other method answers 403.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from edm.models import ApiToken
from edm.rest.errors import Forbidden
from edm.tokens import api_token_find

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """Finds the token of the secret; the request then acts as its user."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_find(token.strip())
        if found is None:
            return None
        if not found.can_write and request.method not in READ_METHODS:
            raise Forbidden("This token is read-only; make a token that may write for this.")
        request.user = found.user
        return found
