"""Bearer tokens on HTTP and SSE (DESIGN §7): API keys from config, and JWTs from an identity provider.

The SDK's bearer middleware hands every request's token to ``BearerTokenVerifier.verify_token``; ``None``
becomes a 401 with ``WWW-Authenticate`` naming our RFC 9728 metadata. An accepted token carries the
principal and role in ``AccessToken.claims``, where ``principal_of`` reads them back. Tokens are never
logged, echoed or passed on: ServiceTitan is called with the server's own tenant credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Collection, Mapping, Sequence
from urllib.parse import urlsplit

import jwt
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings

from st_mcp.config import ApiKeySettings, HttpAuthSettings, JwtSettings, Settings
from st_mcp.config_tenants import DEFAULT_TENANT
from st_mcp.policy.identity import Principal
from st_mcp.policy.permissions import build_roles
from st_mcp.server.jwks import JwksCache

log = logging.getLogger("st_mcp.auth")

# Where an accepted token's identity sits in AccessToken.claims (namespaced: a JWT's own claims differ).
PRINCIPAL_CLAIM = "st_mcp/principal"
ROLE_CLAIM = "st_mcp/role"
TENANT_CLAIM = "st_mcp/tenant"
MAX_PRINCIPAL_NAME = 200  # the store's principal columns (audit, status history)
MAX_TOKEN_LENGTH = 8192  # longer is no key or JWT of ours; refuse before hashing or parsing


def hash_key(key: str) -> str:
    """The SHA-256 hex of an API key: what ``[auth] api_keys`` stores instead of the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def principal_of(token: AccessToken | None) -> Principal | None:
    """The principal an accepted token stands for (None for no token, or one not issued by us)."""
    claims = token.claims if token is not None else None
    if not claims:
        return None
    name, role, tenant = claims.get(PRINCIPAL_CLAIM), claims.get(ROLE_CLAIM), claims.get(TENANT_CLAIM)
    if not isinstance(name, str) or not isinstance(role, str) or not isinstance(tenant, str):
        return None
    return Principal(name=name, role=role, tenant=tenant)


def request_principal() -> Principal | None:
    """The principal of the bearer token that came with the message being handled (None on stdio).

    The SDK hands each message to the server together with the context of the HTTP request that
    carried it, so on a stateful session this is that request's token, not the session opener's.
    """
    return principal_of(get_access_token())


class ApiKeyVerifier:
    def __init__(self, keys: Sequence[ApiKeySettings], resource: str) -> None:
        self._keys = tuple(keys)
        self._resource = resource

    def verify(self, token: str) -> AccessToken | None:
        digest = hash_key(token)
        match: ApiKeySettings | None = None
        for key in self._keys:  # every key is compared, in constant time, whichever matches
            if hmac.compare_digest(digest, key.sha256) and match is None:
                match = key
        if match is None:
            return None
        return AccessToken(
            token=token,
            client_id=match.principal,
            subject=match.principal,
            scopes=[],
            resource=self._resource,
            # The key's hash (not secret) as issuer keeps two keys of one principal distinct sessions.
            claims={
                "iss": f"st-mcp:api-key:{match.sha256[:16]}",
                PRINCIPAL_CLAIM: match.principal,
                ROLE_CLAIM: match.role,
                TENANT_CLAIM: match.tenant or DEFAULT_TENANT,
            },
        )


class JwtVerifier:
    def __init__(
        self,
        settings: JwtSettings,
        *,
        audience: str,
        roles: Collection[str],
        jwks: JwksCache,
        tenant_roles: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        """``roles``: the one tenant's role names. ``tenant_roles``: with ``[tenants.*]``, each tenant's
        (the token must then name its tenant in ``tenant_claim``, and ``roles`` is not used)."""
        assert settings.issuer is not None  # checked by HttpAuthSettings
        self._settings = settings
        self._issuer = settings.issuer
        self._audience = audience
        self._many = tenant_roles is not None
        by_tenant = tenant_roles if tenant_roles is not None else {DEFAULT_TENANT: roles}
        self._roles = {tenant: frozenset(names) for tenant, names in by_tenant.items()}
        self._jwks = jwks

    async def verify(self, token: str) -> AccessToken | None:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self._settings.algorithms or not (kid is None or isinstance(kid, str)):
            return _refused("algorithm not allowed")
        key = await self._jwks.key_for(kid)
        if key is None:
            return _refused("no signing key for its kid")
        if key.alg is not None and key.alg != alg:
            return _refused("algorithm differs from the key's")
        try:
            claims = jwt.decode(
                token,
                key.jwk.key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            return _refused(type(exc).__name__)  # e.g. ExpiredSignatureError; never the token itself
        tenant = claims.get(self._settings.tenant_claim) if self._many else DEFAULT_TENANT
        if not isinstance(tenant, str) or tenant not in self._roles:
            return _refused(f"missing or unknown tenant in claim {self._settings.tenant_claim}")
        role, name = claims.get(self._settings.role_claim), claims.get(self._settings.principal_claim)
        if not isinstance(role, str) or role not in self._roles[tenant]:
            return _refused(f"missing or unknown role in claim {self._settings.role_claim}")
        if not isinstance(name, str) or not name:
            return _refused(f"missing principal claim {self._settings.principal_claim}")
        if len(name) > MAX_PRINCIPAL_NAME:  # it is written with every record the principal leaves
            return _refused(
                f"principal claim {self._settings.principal_claim} is over {MAX_PRINCIPAL_NAME} characters"
            )
        subject = claims.get("sub") if isinstance(claims.get("sub"), str) else name
        client = next((claims[c] for c in ("azp", "client_id") if isinstance(claims.get(c), str)), name)
        return AccessToken(
            token=token,
            client_id=client,
            subject=subject,
            scopes=_scopes(claims),
            expires_at=int(claims["exp"]),
            resource=self._audience,
            claims={"iss": self._issuer, PRINCIPAL_CLAIM: name, ROLE_CLAIM: role, TENANT_CLAIM: tenant},
        )


class BearerTokenVerifier:
    """The SDK's ``TokenVerifier``: an API key from config, else a JWT from the identity provider."""

    def __init__(self, api_keys: ApiKeyVerifier | None, jwts: JwtVerifier | None) -> None:
        self._api_keys = api_keys
        self._jwts = jwts

    async def verify_token(self, token: str) -> AccessToken | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        found = self._api_keys.verify(token) if self._api_keys is not None else None
        if found is None and self._jwts is not None and token.count(".") == 2:
            found = await self._jwts.verify(token)
        return found


def build_verifier(settings: Settings, resource_url: str) -> BearerTokenVerifier | None:
    """The verifier ``[auth]`` describes, or None when HTTP authentication is not configured."""
    auth = settings.auth
    if not auth.enabled:
        return None
    resource = auth.public_url or resource_url
    api_keys = ApiKeyVerifier(auth.api_keys, resource) if auth.api_keys else None
    jwts = None
    if auth.jwt.jwks_url is not None:
        assert auth.audience is not None  # checked by HttpAuthSettings
        jwks = JwksCache(auth.jwt.jwks_url, ttl=auth.jwt.jwks_cache_seconds)
        tenant_roles = (
            {name: build_roles(own.access.roles) for name, own in settings.tenant_settings().items()}
            if settings.tenants
            else None
        )
        roles = build_roles(settings.access.roles)
        jwts = JwtVerifier(
            auth.jwt, audience=auth.audience, roles=roles, jwks=jwks, tenant_roles=tenant_roles
        )
    return BearerTokenVerifier(api_keys, jwts)


def sdk_auth_settings(auth: HttpAuthSettings, resource_url: str) -> AuthSettings:
    """What the SDK needs to act as an OAuth resource server and publish RFC 9728 metadata."""
    resource = auth.public_url or resource_url
    if auth.jwt.jwks_url is not None and auth.jwt.issuer is not None:
        issuer = auth.jwt.issuer
    else:  # API keys only: no authorization server; the metadata names this server's origin
        parts = urlsplit(resource)
        issuer = f"{parts.scheme}://{parts.netloc}"
    return AuthSettings(
        issuer_url=issuer,  # type: ignore[arg-type]  # pydantic parses the string
        resource_server_url=resource,  # type: ignore[arg-type]
        required_scopes=None,
        # Our verifiers check the audience (JWT) or are bound to this server (API keys) themselves.
        validate_token_resource=False,
    )


def _refused(reason: str) -> None:
    log.info("bearer token refused: %s", reason)
    return None


def _scopes(claims: dict[str, object]) -> list[str]:
    scope, scp = claims.get("scope"), claims.get("scp")
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scp, list):
        return [item for item in scp if isinstance(item, str)]
    return []
