"""OAuth2 client-credentials token endpoint, JWT access tokens, and the per-request gate.

The gate runs, in order: ``ST-App-Key`` → rate limit → bearer token → tenant → scope. Tokens are HS256
JWTs signed with a per-app random secret (ServiceTitan signs RS256; nobody but the sandbox verifies these),
carrying ServiceTitan's claim set: nbf, exp, iss, client_id, tenant (string), jti, iat, scope (array).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse

from .clock import SandboxClock
from .problems import ProblemError
from .ratelimit import SlidingWindowLimiter

TOKEN_LIFETIME_SECONDS = 900
TOKEN_PATH = "/connect/token"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the app (key + client id) and what its token allows."""

    app_key: str
    client_id: str
    scopes: frozenset[str]


class _OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, basic: bool = False) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.basic = status, error, description, basic

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="sandbox"'} if self.status == 401 else {}
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


class TokenIssuer:
    """Mints and verifies access tokens against the sandbox clock (not the host clock)."""

    def __init__(
        self,
        clock: SandboxClock,
        tenant_id: int,
        scopes: frozenset[str],
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        client_aliases: tuple[str, ...] = (),
        key: bytes | None = None,
    ) -> None:
        self._clock = clock
        self._tenant_id = tenant_id
        self._scopes = scopes
        # None = any client id; else the configured one and its aliases (a multi-tenant sandbox's
        # default tenant answers to both "X" and "X-<tenant id>").
        self._client_ids = None if client_id is None else frozenset((client_id, *client_aliases))
        self._client_secret = client_secret
        # Shared by every tenant of one multi-tenant sandbox, so a token of another tenant verifies and
        # is then refused 403 for its tenant claim, as ServiceTitan does, instead of 401 for its signature.
        self._key = key or secrets.token_bytes(32)
        self.issued = 0

    # -- token endpoint -------------------------------------------------------------------------
    async def token_endpoint(self, request: Request) -> JSONResponse:
        try:
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
            client_id, client_secret, basic = _client_credentials(request, form)
            grant = form.get("grant_type")
            if not grant:
                raise _OAuthError(400, "invalid_request", "grant_type is required")
            if grant != "client_credentials":
                raise _OAuthError(400, "unsupported_grant_type", f"grant_type '{grant}' is not supported")
            self._authenticate(client_id, client_secret, basic)
        except _OAuthError as exc:
            return exc.response()
        issuer = str(request.base_url).rstrip("/")
        token = self.mint(client_id, issuer)
        self.issued += 1
        return JSONResponse(
            {
                "access_token": token,
                "expires_in": TOKEN_LIFETIME_SECONDS,
                "token_type": "Bearer",
                "scope": " ".join(sorted(self._scopes)),
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _authenticate(self, client_id: str, client_secret: str, basic: bool) -> None:
        status = 401 if basic else 400
        if not client_id or not client_secret:
            raise _OAuthError(status, "invalid_client", "client_id and client_secret are required", basic)
        if self._client_ids is not None and client_id not in self._client_ids:
            raise _OAuthError(status, "invalid_client", "unknown client", basic)
        if self._client_secret is not None and client_secret != self._client_secret:
            raise _OAuthError(status, "invalid_client", "invalid client secret", basic)

    def mint(self, client_id: str, issuer: str = "https://auth.sandbox.invalid") -> str:
        now = int(self._clock.now().timestamp())
        claims = {
            "nbf": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "iss": issuer,
            "client_id": client_id,
            "tenant": str(self._tenant_id),
            "jti": uuid.uuid4().hex.upper(),
            "iat": now,
            "scope": sorted(self._scopes),
        }
        return jwt.encode(claims, self._key, algorithm="HS256", headers={"typ": "at+jwt"})

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a valid token, else 401 with ``WWW-Authenticate: Bearer error="invalid_token"``."""
        try:
            # Expiry is checked below against the sandbox clock, so PyJWT's host-clock checks are off.
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise _invalid_token("The access token is invalid.") from None
        now = self._clock.now().timestamp()
        if now >= float(claims.get("exp", 0)):
            expired_at = datetime.fromtimestamp(float(claims["exp"]), UTC)
            raise _invalid_token(f"The token expired at '{expired_at:%m/%d/%Y %H:%M:%S}'")
        if now < float(claims.get("nbf", 0)):
            raise _invalid_token("The token is not valid yet.")
        return claims


def _invalid_token(description: str) -> ProblemError:
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return ProblemError(401, description, headers={"WWW-Authenticate": challenge})


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str, bool]:
    """Client id/secret from HTTP Basic (RFC 6749 §2.3.1, form-encoded parts) or from the form."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            raw_id, _, raw_secret = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _OAuthError(401, "invalid_client", "malformed Basic credentials", basic=True) from None
        return unquote_plus(raw_id), unquote_plus(raw_secret), True
    return form.get("client_id", ""), form.get("client_secret", ""), False


class Gate:
    """Everything a ServiceTitan API call must pass before its handler runs."""

    def __init__(
        self,
        issuer: TokenIssuer,
        limiter: SlidingWindowLimiter,
        tenant_id: int,
        app_key: str | None = None,
    ) -> None:
        self.issuer = issuer
        self.limiter = limiter
        self.tenant_id = tenant_id
        self.app_key = app_key

    def check(self, request: Request, scope: str) -> Principal:
        app_key = request.headers.get("st-app-key", "").strip()
        if not app_key:
            raise ProblemError(401, "The ST-App-Key header is required.", {"ST-App-Key": ["Required."]})
        if self.app_key is not None and app_key != self.app_key:
            raise ProblemError(
                401, "The ST-App-Key is not valid.", {"ST-App-Key": ["Unknown application key."]}
            )

        path_tenant = int(request.path_params.get("tenant", 0))
        wait = self.limiter.acquire((app_key, path_tenant))
        if wait is not None:
            raise ProblemError(
                429,
                f"Too many requests. Please try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
            )

        claims = self.issuer.verify(_bearer_token(request))
        # A token is bound to one tenant, so another tenant in the path is an authorization failure
        # (403), not a missing resource: the caller is known, just not allowed there.
        if path_tenant != self.tenant_id or claims.get("tenant") != str(path_tenant):
            raise ProblemError(403, f"Access to tenant {path_tenant} is denied for this application.")
        scopes = frozenset(claims.get("scope") or ())
        if scope not in scopes:
            raise ProblemError(
                403, f"The access token does not grant the '{scope}' scope.", {"scope": [scope]}
            )
        return Principal(app_key=app_key, client_id=str(claims.get("client_id", "")), scopes=scopes)


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "").strip()
    if not header:
        raise _invalid_token("The Authorization header is required.")
    # ServiceTitan's own curl example sends the raw token, every client sends "Bearer <token>".
    scheme, _, rest = header.partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest else header
