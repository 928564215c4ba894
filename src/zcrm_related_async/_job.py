"""A running job, as the user holds it: await it, cancel it, read its report."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any

from ._exceptions import CreditsExhaustedError
from ._report import ERROR, NOT_ATTEMPTED, Report, Result
from ._scheduler import Operations, ResultSink, Scheduler


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
        self._results: list[Result | None] = []
        self._delivered = 0
        self._finished = False
        self._task = asyncio.get_running_loop().create_task(self._execute(ops))

    def _collect(self, index: int, result: Result) -> None:
        results = self._results
        if index >= len(results):
            results.extend([None] * (index + 1 - len(results)))
        if results[index] is None:
            self._delivered += 1
        results[index] = result

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
        results = self._results
        if self._delivered < total:  # cancelled before reading all of a list
            results.extend([None] * (total - len(results)))
            for index, result in enumerate(results):
                if result is None:
                    if self._ops is None:
                        raise AssertionError(f"operation {index} has no result")  # a bug
                    op = self._ops[index]
                    results[index] = Result(op, ERROR, NOT_ATTEMPTED, "not sent: job cancelled")
            self._delivered = total
        return Report(results, self._scheduler.calls)  # type: ignore[arg-type]
