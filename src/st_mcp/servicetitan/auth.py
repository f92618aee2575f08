"""Client-credentials tokens: fetched once, shared by every concurrent call, refreshed before expiry.

authlib supplies the OAuth 2.0 pieces (the token request body, ``client_secret_post`` client
authentication, ``OAuth2Token`` expiry arithmetic). Its ready-made httpx client is not used: since
authlib 1.9 it binds to ``httpx2`` whenever that is installed (the MCP SDK installs it), while this
client, its ASGI sandbox transport and respx all speak ``httpx``. The exchange itself is one POST.

``TokenSource`` single-flights the first fetch and any refresh (one lock), so many concurrent tool
calls never stampede ServiceTitan's throttled token endpoint. A token nearing its end is replaced in
the background while callers go on using it, so at any load no tool call waits for a token exchange
after the first (one token per ~12 minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio
import httpx
from authlib.oauth2.auth import ClientAuth, OAuth2Token
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from st_mcp.servicetitan.errors import TokenError, TokenUnavailableError

TOKEN_OPERATION = "POST /connect/token"
# ServiceTitan tokens live 900 s; refresh a minute early so no request carries a token about to die.
REFRESH_LEEWAY_SECONDS = 60
# Start replacing it in the background this long before expiry, while it still serves every caller.
REFRESH_AHEAD_SECONDS = 180
log = logging.getLogger(__name__)


class TokenSource:
    def __init__(self, http: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str) -> None:
        self._http = http
        self._token_url = token_url
        self._client_auth = ClientAuth(client_id, client_secret, "client_secret_post")
        self._token: OAuth2Token | None = None
        self._lock = anyio.Lock()
        self._refreshing: asyncio.Task[None] | None = None
        self.fetch_count = 0

    @property
    def token(self) -> OAuth2Token | None:
        return self._token

    def _fresh(self) -> str | None:
        if self._token is not None and not self._token.is_expired(leeway=REFRESH_LEEWAY_SECONDS):
            return str(self._token["access_token"])
        return None

    async def access_token(self) -> str:
        """A valid access token, fetching one only if none is cached or it is about to expire."""
        if (token := self._fresh()) is not None:
            if self._ending():
                self._refresh_in_background()
            return token
        async with self._lock:
            if (token := self._fresh()) is not None:
                return token
            return await self._fetch()

    def _ending(self) -> bool:
        return self._token is not None and self._token.is_expired(leeway=REFRESH_AHEAD_SECONDS) is True

    def _refresh_in_background(self) -> None:
        if self._refreshing is not None:
            return  # one refresh at a time
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on asyncio: the caller at expiry fetches inline
            return
        self._refreshing = loop.create_task(self._refresh())

    async def _refresh(self) -> None:
        try:
            async with self._lock:
                if self._ending():
                    await self._fetch()
        except Exception as exc:  # the token still works; the caller at expiry tries again inline
            log.warning("background token refresh failed: %s", type(exc).__name__)
        finally:
            self._refreshing = None

    async def aclose(self) -> None:
        task, self._refreshing = self._refreshing, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def replace_rejected(self, rejected: str) -> str:
        """After a 401: fetch a new token unless another caller already replaced the rejected one."""
        async with self._lock:
            current = self._fresh()
            if current is not None and current != rejected:
                return current
            return await self._fetch()

    def forget(self) -> None:
        """Drop the cached token (credential rotation, tests)."""
        self._token = None

    async def _fetch(self) -> str:
        self.fetch_count += 1
        body = prepare_token_request("client_credentials")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        _, headers, body = self._client_auth.prepare("POST", self._token_url, headers, body)
        try:
            response = await self._http.post(self._token_url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise TokenUnavailableError(TOKEN_OPERATION, "timed out") from None
        except httpx.TransportError as exc:
            raise TokenUnavailableError(TOKEN_OPERATION, type(exc).__name__) from None
        if response.status_code == 429 or response.status_code >= 500:
            # Busy or failing, not a refusal of our credentials: worth another try.
            raise TokenUnavailableError(TOKEN_OPERATION, f"HTTP {response.status_code}")
        self._token = _parse(response)
        return str(self._token["access_token"])


def _parse(response: httpx.Response) -> OAuth2Token:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise TokenError(f"ServiceTitan's token endpoint answered {response.status_code} without a token")
    if "error" in payload or not response.is_success:
        # The OAuth error code (e.g. invalid_client) is safe to show; the request never is.
        code = payload.get("error", response.status_code)
        raise TokenError(
            f"ServiceTitan's token endpoint refused the client credentials ({code}); "
            "check ST_CLIENT_ID and ST_CLIENT_SECRET for this environment"
        )
    if "access_token" not in payload:
        raise TokenError("ServiceTitan's token endpoint answered without an access_token")
    return OAuth2Token.from_dict(payload)
