"""Test identity provider: RSA signing keys generated per run, their JWKS, and JWTs signed with them."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://idp.example.test/"
ROLE_CLAIM = "st_mcp_role"


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid, **header})


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.jwk() for key in keys]}


def claims(audience: str, *, role: str = "csr", sub: str = "casey", **overrides: Any) -> dict[str, Any]:
    """Valid claims for ``audience`` (five minutes to live); overrides replace or, as None, drop one."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": audience,
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        ROLE_CLAIM: role,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}
