"""API tokens: issue one (the secret is shown once), revoke it, and find the token of a secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import NamedTuple

from django.db.models import QuerySet
from django.utils import timezone

from edm.models import ApiToken

SECRET_PREFIX = "edm_"  # noqa: S105 - not a secret: lets scanners and people spot a token
SHOWN_CHARACTERS = 12
LAST_USED_EVERY = dt.timedelta(minutes=1)  # last_used_at is written at most this often


class IssuedToken(NamedTuple):
    token: ApiToken
    secret: str  # never stored; the only time anyone sees it


def api_token_create(*, user, name: str, can_write: bool = True) -> IssuedToken:
    """A new token for `user`; its secret is returned once and only its hash is kept."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100] or "API token",
        prefix=secret[:SHOWN_CHARACTERS],
        secret_hash=_digest(secret),
        can_write=can_write,
    )
    return IssuedToken(token, secret)


def api_token_revoke(token: ApiToken) -> ApiToken:
    """Refuse the token from now on (the row stays, so its use can still be told)."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_find(secret: str) -> ApiToken | None:
    """The active token of an active user with this secret, or None; notes when it was used."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(secret_hash=_digest(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_tokens_of(user) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked ones included."""
    return ApiToken.objects.filter(user=user)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
