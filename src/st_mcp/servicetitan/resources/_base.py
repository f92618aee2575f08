"""What every resource group shares: list/get/create helpers over ``ServiceTitanHttp``."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from st_mcp.servicetitan.http import QueryValue, ServiceTitanHttp
from st_mcp.servicetitan.models.common import Page, StRequest
from st_mcp.servicetitan.pagination import DEFAULT_ITER_PAGE_SIZE, iterate_pages

M = TypeVar("M", bound=BaseModel)


@functools.cache
def page_of(model: type[M]) -> type[Page[M]]:
    """``Page[model]``, parametrized once per model: pydantic rebuilt it on many list calls (6 % of CPU)."""
    return Page[model]  # type: ignore[valid-type]


class ResourceGroup:
    module: str = ""

    def __init__(self, http: ServiceTitanHttp) -> None:
        self._http = http

    async def _list(
        self,
        path: str,
        model: type[M],
        params: Mapping[str, QueryValue],
        *,
        page: int = 1,
        page_size: int = 50,
        include_total: bool = False,
    ) -> Page[M]:
        query = {**params, "page": page, "pageSize": page_size, "includeTotal": include_total or None}
        body = await self._http.send("GET", self.module, path, params=query)
        return page_of(model).model_validate(body)

    def _iterate(
        self,
        path: str,
        model: type[M],
        params: Mapping[str, QueryValue],
        *,
        page_size: int = DEFAULT_ITER_PAGE_SIZE,
        limit: int | None = None,
    ) -> AsyncIterator[M]:
        async def fetch(page: int, size: int) -> Page[M]:
            return await self._list(path, model, params, page=page, page_size=size)

        return iterate_pages(fetch, page_size=page_size, limit=limit)

    async def _get(self, path: str, model: type[M], params: Mapping[str, QueryValue] | None = None) -> M:
        return model.model_validate(await self._http.send("GET", self.module, path, params=params))

    async def _write(
        self,
        method: str,
        path: str,
        body: StRequest | list[Any] | None,
        model: type[M] | None = None,
        *,
        repeatable: bool = False,
    ) -> Any:
        payload = body.to_body() if isinstance(body, StRequest) else body
        answer = await self._http.send(method, self.module, path, json=payload, repeatable=repeatable)
        return model.model_validate(answer) if model is not None else answer
