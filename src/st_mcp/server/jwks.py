"""An identity provider's signing keys (JWKS), fetched over async HTTP and cached.

PyJWT's ``PyJWKClient`` fetches with blocking urllib, which would stall the event loop for every
request waiting behind it; this does the same job with httpx. Keys are kept for a TTL. A token naming
an unknown ``kid`` triggers one refetch (the provider rotated its keys), at most once per
``refetch_interval``, so a stream of made-up kids cannot turn every request into a fetch. When the
provider is down the last good keys keep serving.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWTError

log = logging.getLogger("st_mcp.auth")

# Only public-key types: a symmetric ("oct") key has no business in a published key set.
_ASYMMETRIC = frozenset({"RSA", "EC", "OKP"})


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str | None
    alg: str | None  # the JWK's own "alg", when it names one
    jwk: PyJWK


class JwksCache:
    def __init__(
        self,
        url: str,
        *,
        ttl: float = 300.0,
        refetch_interval: float = 10.0,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._ttl = ttl
        self._refetch_interval = refetch_interval
        self._timeout = timeout
        self._transport = transport  # tests inject one; production uses the network
        self._clock = clock
        self._keys: list[SigningKey] | None = None
        self._fetched_at = -math.inf
        self._last_attempt = -math.inf  # of any fetch: the next unscheduled one waits refetch_interval
        self._generation = 0
        self._lock = anyio.Lock()
        self.fetches = 0  # for tests and diagnostics

    async def key_for(self, kid: str | None) -> SigningKey | None:
        """The key a token with this ``kid`` header was signed with, or None."""
        key = _pick(await self._current(), kid)
        if key is None and self._clock() - self._last_attempt >= self._refetch_interval:
            key = _pick(await self._refresh(self._generation), kid)
        return key

    async def _current(self) -> list[SigningKey]:
        now = self._clock()
        if self._keys is not None and now - self._fetched_at < self._ttl:
            return self._keys
        if now - self._last_attempt < self._refetch_interval:  # fetching just failed: do not hammer
            return self._keys or []
        return await self._refresh(self._generation)

    async def _refresh(self, seen: int) -> list[SigningKey]:
        async with self._lock:
            if self._generation != seen:  # another request fetched while this one waited
                return self._keys or []
            fetched = await self._fetch()
            self._generation += 1
            self._last_attempt = now = self._clock()
            if fetched is not None:
                self._keys, self._fetched_at = fetched, now
            return self._keys or []

    async def _fetch(self) -> list[SigningKey] | None:
        self.fetches += 1
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as http:
                response = await http.get(self._url, headers={"Accept": "application/json"})
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("JWKS fetch from %s failed: %s", self._url, type(exc).__name__)
            return None
        keys = _parse(document)
        if not keys:
            log.warning("JWKS at %s holds no usable signing keys", self._url)
        return keys


def _parse(document: Any) -> list[SigningKey]:
    entries = document.get("keys") if isinstance(document, dict) else None
    keys: list[SigningKey] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("kty") not in _ASYMMETRIC:
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            jwk = PyJWK.from_dict(entry)
        except (PyJWTError, ValueError, TypeError, KeyError):
            continue  # one malformed key must not take the others down
        kid, alg = entry.get("kid"), entry.get("alg")
        keys.append(SigningKey(_text(kid), _text(alg), jwk))
    return keys


def _pick(keys: list[SigningKey], kid: str | None) -> SigningKey | None:
    if kid is None:
        # A token without kid is accepted only when the set leaves no doubt which key signed it.
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.kid == kid), None)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
