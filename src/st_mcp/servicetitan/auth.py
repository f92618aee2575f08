"""Client-credentials tokens: fetched once, shared by every concurrent call, refreshed before expiry.

authlib performs the OAuth 2.0 exchange. What it does not do is single-flight the *first* fetch or a
refresh forced by a 401, so many concurrent tool calls at start-up would each hit the (throttled)
token endpoint. ``TokenSource`` puts one lock around both.
"""

from __future__ import annotations

import anyio
import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from st_mcp.servicetitan.errors import TokenError

# ServiceTitan tokens live 900 s; refresh a minute early so no request carries a token about to die.
REFRESH_LEEWAY_SECONDS = 60


class TokenSource:
    def __init__(self, oauth: AsyncOAuth2Client) -> None:
        self._oauth = oauth
        self._lock = anyio.Lock()
        self.fetch_count = 0

    def _fresh_token(self) -> str | None:
        token = self._oauth.token
        if token and not token.is_expired(leeway=REFRESH_LEEWAY_SECONDS):
            return str(token["access_token"])
        return None

    async def access_token(self) -> str:
        """A valid access token, fetching one only if none is cached or it is about to expire."""
        if (token := self._fresh_token()) is not None:
            return token
        async with self._lock:
            if (token := self._fresh_token()) is not None:
                return token
            return await self._fetch()

    async def replace_rejected(self, rejected: str) -> str:
        """After a 401: fetch a new token unless another caller already replaced the rejected one."""
        async with self._lock:
            current = self._oauth.token
            if current and current.get("access_token") != rejected and self._fresh_token():
                return str(current["access_token"])
            return await self._fetch()

    def expire(self) -> None:
        """Forget the cached token (tests, and operators rotating credentials)."""
        self._oauth.token = None

    async def _fetch(self) -> str:
        self.fetch_count += 1
        try:
            token = await self._oauth.fetch_token(grant_type="client_credentials")
        except OAuthError as exc:
            # exc.error is the OAuth error code (e.g. invalid_client); never echo the request itself.
            raise TokenError(
                f"ServiceTitan's token endpoint refused the client credentials ({exc.error}); "
                "check ST_CLIENT_ID and ST_CLIENT_SECRET for this environment"
            ) from None
        except httpx.HTTPStatusError as exc:
            raise TokenError(
                f"ServiceTitan's token endpoint failed with {exc.response.status_code}; try again shortly"
            ) from None
        except (ValueError, KeyError) as exc:
            raise TokenError(f"ServiceTitan's token endpoint gave an unusable answer: {exc}") from None
        return str(token["access_token"])
