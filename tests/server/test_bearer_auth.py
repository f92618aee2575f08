"""The bearer-token verifier on its own: API keys, JWTs against a JWKS, and the JWKS cache."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from st_mcp.config import ApiKeySettings, JwtSettings
from st_mcp.policy.identity import Principal
from st_mcp.policy.permissions import DEFAULT_ROLES
from st_mcp.server.auth import (
    ApiKeyVerifier,
    BearerTokenVerifier,
    JwtVerifier,
    hash_key,
    principal_of,
)
from st_mcp.server.jwks import JwksCache

from ..auth_keys import ISSUER, SigningKey, claims, jwks

pytestmark = pytest.mark.anyio

AUDIENCE = "https://mcp.example.test/mcp"
JWKS_URL = "https://idp.example.test/jwks.json"
DANA_KEY = "dana-key-0123456789abcdef"
KEY_1, KEY_2 = SigningKey("k1"), SigningKey("k2")


class Idp:
    """A JWKS endpoint behind httpx.MockTransport: which keys it publishes, how often it was asked."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.up = True
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if not self.up:
            return httpx.Response(503)
        return httpx.Response(200, json=jwks(*self.keys))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_verifier(idp: Idp, clock: FakeClock | None = None, **jwt_settings: Any) -> BearerTokenVerifier:
    cache = JwksCache(JWKS_URL, transport=httpx.MockTransport(idp.handler), clock=clock or time.monotonic)
    settings = JwtSettings(jwks_url=JWKS_URL, issuer=ISSUER, **jwt_settings)
    keys = ApiKeyVerifier(
        [ApiKeySettings(principal="dana", role="auditor", sha256=hash_key(DANA_KEY))], AUDIENCE
    )
    return BearerTokenVerifier(
        keys, JwtVerifier(settings, audience=AUDIENCE, roles=DEFAULT_ROLES, jwks=cache)
    )


def test_hash_key_is_sha256_hex() -> None:
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


async def test_api_key_maps_to_its_principal_and_role() -> None:
    token = await make_verifier(Idp()).verify_token(DANA_KEY)
    assert token is not None
    assert principal_of(token) == Principal("dana", "auditor")
    assert token.client_id == "dana" and token.resource == AUDIENCE


@pytest.mark.parametrize("presented", ["", "dana-key-0123456789abcdeF", DANA_KEY + " ", "x" * 9000])
async def test_other_keys_are_refused(presented: str) -> None:
    assert await make_verifier(Idp()).verify_token(presented) is None


async def test_valid_jwt_gives_principal_and_role() -> None:
    verifier = make_verifier(Idp(KEY_1))
    token = await verifier.verify_token(KEY_1.sign(claims(AUDIENCE, azp="crm-ui")))
    assert token is not None
    assert principal_of(token) == Principal("casey", "csr")
    assert token.client_id == "crm-ui" and token.subject == "casey"
    assert token.resource == AUDIENCE and token.claims is not None and token.claims["iss"] == ISSUER


async def test_principal_claim_is_configurable() -> None:
    verifier = make_verifier(Idp(KEY_1), principal_claim="email")
    token = await verifier.verify_token(KEY_1.sign(claims(AUDIENCE, email="casey@example.test")))
    assert principal_of(token) == Principal("casey@example.test", "csr")


async def test_small_clock_skew_is_tolerated() -> None:
    now = int(time.time())
    verifier = make_verifier(Idp(KEY_1))
    assert await verifier.verify_token(KEY_1.sign(claims(AUDIENCE, exp=now - 10))) is not None


def _hs256_with_public_key() -> str:
    # The algorithm-confusion forgery: HMAC keyed with the (public) RSA key. PyJWT refuses to sign
    # with a PEM as an HMAC secret, so the token is assembled by hand.
    import base64
    import hashlib
    import hmac
    import json

    pem = KEY_1.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = b64(json.dumps(claims(AUDIENCE)).encode())
    signature = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


BAD_JWTS = {
    "expired": lambda: KEY_1.sign(claims(AUDIENCE, exp=int(time.time()) - 120)),
    "not yet valid": lambda: KEY_1.sign(claims(AUDIENCE, nbf=int(time.time()) + 120)),
    "wrong audience": lambda: KEY_1.sign(claims("https://other.example.test/mcp")),
    "wrong issuer": lambda: KEY_1.sign(claims(AUDIENCE, iss="https://evil.example.test/")),
    "no expiry": lambda: KEY_1.sign(claims(AUDIENCE, exp=None)),
    "no role": lambda: KEY_1.sign(claims(AUDIENCE, st_mcp_role=None)),
    "unknown role": lambda: KEY_1.sign(claims(AUDIENCE, role="superuser")),
    "role not a string": lambda: KEY_1.sign(claims(AUDIENCE, role=["manager"])),
    "no principal": lambda: KEY_1.sign(claims(AUDIENCE, sub=None)),
    "principal longer than the store keeps": lambda: KEY_1.sign(claims(AUDIENCE, sub="x" * 201)),
    "signed by another key": lambda: SigningKey("k1").sign(claims(AUDIENCE)),
    "unsigned": lambda: jwt.encode(claims(AUDIENCE), None, algorithm="none"),
    "hs256 with the public key": _hs256_with_public_key,
    "malformed": lambda: "a.b.c",
}


@pytest.mark.parametrize("case", sorted(BAD_JWTS))
async def test_bad_jwts_are_refused(case: str, caplog: pytest.LogCaptureFixture) -> None:
    token = BAD_JWTS[case]()
    with caplog.at_level(logging.DEBUG):
        assert await make_verifier(Idp(KEY_1)).verify_token(token) is None
    assert token not in caplog.text  # never logged


async def test_unknown_kid_refetches_once_then_backs_off() -> None:
    idp, clock = Idp(KEY_1), FakeClock()
    verifier = make_verifier(idp, clock)
    assert await verifier.verify_token(KEY_1.sign(claims(AUDIENCE))) is not None
    assert idp.requests == 1

    clock.now += 60  # the provider rotates to a new key; the cached set does not have it yet
    idp.keys = [KEY_1, KEY_2]
    assert await verifier.verify_token(KEY_2.sign(claims(AUDIENCE))) is not None
    assert idp.requests == 2

    # Made-up kids do not turn every request into a fetch.
    stranger = SigningKey("k-unknown")
    for _ in range(5):
        assert await verifier.verify_token(stranger.sign(claims(AUDIENCE))) is None
    assert idp.requests == 2
    clock.now += 11
    assert await verifier.verify_token(stranger.sign(claims(AUDIENCE))) is None
    assert idp.requests == 3


async def test_cached_keys_expire_and_survive_an_outage() -> None:
    idp, clock = Idp(KEY_1), FakeClock()
    verifier = make_verifier(idp, clock)
    good = KEY_1.sign(claims(AUDIENCE))
    assert await verifier.verify_token(good) is not None
    clock.now += 299
    assert await verifier.verify_token(good) is not None
    assert idp.requests == 1  # within the TTL

    idp.up = False
    clock.now += 2  # past the TTL: a refetch is tried, fails, and the last good keys keep serving
    assert await verifier.verify_token(good) is not None
    assert idp.requests == 2


async def test_no_jwks_means_no_jwt() -> None:
    idp = Idp(KEY_1)
    idp.up = False
    assert await make_verifier(idp).verify_token(KEY_1.sign(claims(AUDIENCE))) is None
