"""API sign-in for scripts and apps, and who the caller is."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from regie.accounts import activity, tokens
from regie.accounts.errors import InvalidCredentials, InvalidSecondFactor, Throttled
from regie.store.models import User
from regie.web.guards import api_user
from regie.web.problems import Problem
from regie.web.sessions import client_info, context_of, current_session, end_session, start_session

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    otp: str = Field(min_length=1, max_length=64, description="TOTP code or a recovery code")


class UserOut(BaseModel):
    id: str
    email: str
    created_at: datetime


class LoginResponse(BaseModel):
    csrf_token: str = Field(description="Send as X-CSRF-Token with every state-changing request of this session")
    user: UserOut


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, created_at=user.created_at)


def _throttled(exc: Throttled) -> Problem:
    problem = Problem(429, "throttled", f"Too many failed attempts. Try again after {exc.retry_at.isoformat()}.",
                      retry_at=exc.retry_at.isoformat(), locked=exc.locked)
    return problem


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses={401: {"description": "Wrong credentials or code"}, 403: {"description": "No second factor set up"},
               429: {"description": "Throttled or locked"}},
)
def login(request: Request, body: LoginRequest) -> LoginResponse:
    """Start a session with e-mail, password and second factor (the session cookie is set)."""
    context = context_of(request)
    client = client_info(request)
    try:
        user = context.accounts.check_password(body.email, body.password, client)
    except Throttled as exc:
        raise _throttled(exc) from exc
    except InvalidCredentials as exc:
        raise Problem(401, "invalid-credentials", "E-mail address or password is wrong.") from exc
    with context.db.session() as session:
        enrolled = context.accounts.has_second_factor(session, user.id)
    if not enrolled:
        raise Problem(403, "second-factor-required", "Set up a second factor in the browser first.")
    try:
        context.accounts.verify_second_factor(user.id, body.otp, client)
    except Throttled as exc:
        raise _throttled(exc) from exc
    except InvalidSecondFactor as exc:
        raise Problem(401, "invalid-second-factor", "The code is not right.") from exc
    row = start_session(request, user.id, "full")
    with context.db.session() as session:
        activity.record(session, user.id, "login", client, "api")
    return LoginResponse(csrf_token=row.csrf_token, user=_user_out(user))


@router.post("/auth/logout", status_code=204, responses={401: {"description": "Not signed in"}})
def logout(request: Request, user: Annotated[User, Depends(api_user)]) -> Response:
    """End the current session (a bearer token stays valid until revoked)."""
    if current_session(request) is not None and getattr(request.state, "auth_channel", "") == "session":
        with context_of(request).db.session() as session:
            activity.record(session, user.id, "logout", client_info(request), "api")
        end_session(request)
    return Response(status_code=204)


@router.get("/me", response_model=UserOut)
def me(user: Annotated[User, Depends(api_user)]) -> UserOut:
    """The account the request is made for."""
    return _user_out(user)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(request: Request, user: Annotated[User, Depends(api_user)]) -> list[TokenOut]:
    """Your API tokens (never the tokens themselves: they are stored as hashes)."""
    with context_of(request).db.session() as session:
        rows = tokens.list_for(session, user.id)
    return [TokenOut(id=r.id, name=r.name, created_at=r.created_at, last_used_at=r.last_used_at) for r in rows]
