"""Running independent upstream reads at once (DESIGN §10: fetch independent things concurrently)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Generic, TypeVar

import anyio.abc

T = TypeVar("T")


class Later(Generic[T]):
    """Starts an awaitable in a task group; ``value`` is ready once the group has exited.

    An exception of the awaitable is raised, as itself, when ``value`` is read.

    async with anyio.create_task_group() as tg:
        job = Later(tg, st.jpm.get_job(1))
        notes = Later(tg, st.jpm.list_appointments(job_id=1))
    use(job.value, notes.value)
    """

    def __init__(self, tg: anyio.abc.TaskGroup, awaitable: Awaitable[T]) -> None:
        self._awaitable = awaitable
        self._error: Exception | None = None
        tg.start_soon(self._run)

    async def _run(self) -> None:
        try:
            self._value: T = await self._awaitable
        except Exception as exc:
            # Kept, not raised: a task group would wrap it in an ExceptionGroup, and the caller (and the
            # tool guard) must see the error itself, e.g. a NotFound whose message goes to the model.
            self._error = exc

    @property
    def value(self) -> T:
        if self._error is not None:
            raise self._error
        return self._value
