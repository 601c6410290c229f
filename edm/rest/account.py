"""GET /api/me: who a token acts as, to check a token works."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

router = Router(tags=["account"])


class TokenOut(Schema):
    name: str
    prefix: str
    can_write: bool
    created_at: datetime


class MeOut(Schema):
    username: str
    token: TokenOut


@router.get("/me", response=MeOut, summary="Who this token acts as")
def me(request):
    return {"username": request.user.get_username(), "token": request.auth}
