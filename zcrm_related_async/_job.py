"""A running job, as the user holds it: await it, cancel it, read its report."""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Callable, Generator, Iterable
from typing import Any

from ._exceptions import CreditsExhaustedError
from ._merge import ListPart, Part
from ._report import CompactResults, Report
from ._scheduler import NOT_SENT_CANCELLED, Operations, ResultSink, Scheduler


class Job:
    """One ``run()`` under way, from :meth:`AsyncClient.start`.

    ``await job`` gives the :class:`Report`. ``job.cancel()`` stops it: calls in flight are
    abandoned (their records report ``CANCELLED``: Zoho may have applied them) and nothing more
    is sent (``NOT_ATTEMPTED``). Once it is done, cancelled or not, :meth:`report` accounts for
    every operation it read, and for every operation when the input was a list or tuple.
    """

    def __init__(self, make_scheduler: Callable[[ResultSink], Scheduler], ops: Operations) -> None:
        self._scheduler = make_scheduler(self._collect)
        self._ops = ops if isinstance(ops, (list, tuple)) else None
        # per input position: the part holding its result, and its position in that part
        self._parts: list[Part | None] = []
        self._positions = array("I")
        self._delivered = 0
        self._finished = False
        self._task = asyncio.get_running_loop().create_task(self._execute(ops))

    def _collect(self, part: Part, where: Iterable[tuple[int, int]]) -> None:
        parts, positions = self._parts, self._positions
        for index, position in where:
            if index >= len(parts):
                grow = index + 1 - len(parts)
                parts.extend([None] * grow)
                positions.extend([0] * grow)
            if parts[index] is None:
                self._delivered += 1
            parts[index] = part
            positions[index] = position

    async def _execute(self, ops: Operations) -> Report:
        await self._scheduler.run(ops)
        self._finished = True
        report = self.report()
        if self._scheduler.credits_exhausted:
            raise CreditsExhaustedError(
                "Zoho says the org's API credits for the day are spent; "
                f"{report.failed} of {len(report)} operations were not done",
                report,
            )
        return report

    def __await__(self) -> Generator[Any, None, Report]:
        return self._task.__await__()

    def cancel(self) -> None:
        """Stop the job; :meth:`wait` for it before reading :meth:`report`."""
        self._task.cancel()

    async def wait(self) -> None:
        """Wait until the job is done, finished or cancelled, without raising."""
        await asyncio.gather(self._task, return_exceptions=True)

    def done(self) -> bool:
        return self._task.done()

    @property
    def calls(self) -> int:
        """HTTP requests made so far (each spends one API credit)."""
        return self._scheduler.calls

    def report(self) -> Report:
        """Every operation's result (see the class docstring). Raises while the job runs."""
        if not (self._finished or self._task.done()):
            raise RuntimeError("the job is still running: await it or cancel it first")
        total = len(self._ops) if self._ops is not None else self._scheduler.read
        if self._delivered < total:  # cancelled before reading all of a list
            late = ListPart(NOT_SENT_CANCELLED)
            for index in range(total):
                if index >= len(self._parts) or self._parts[index] is None:
                    if self._ops is None:
                        raise AssertionError(f"operation {index} has no result")  # a bug
                    late.ops.append(self._ops[index])
                    self._collect(late, ((index, len(late.ops) - 1),))
        results = CompactResults(self._parts, self._positions)  # type: ignore[arg-type]
        return Report(results, self._scheduler.calls)
