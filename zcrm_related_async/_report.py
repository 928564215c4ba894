"""The report: one result per input operation, in input order."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, overload

from ._exceptions import OperationsFailedError
from ._ops import Operation
from ._values import Value, field

SUCCESS = "success"
ERROR = "error"

# Codes of our own, for outcomes Zoho did not state itself.
NOT_ATTEMPTED = "NOT_ATTEMPTED"  # never sent: the job stopped (cancelled, budget...) before it
CANCELLED = "CANCELLED"  # the job was cancelled after its call was sent: Zoho may have applied it
# Something raised inside the client while this operation's call was carried: a bug, or user
# code the client runs (an auth callable, an Auth subclass). Not Zoho's INTERNAL_ERROR (a 500).
CLIENT_ERROR = "CLIENT_ERROR"
REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"  # HTTP 413: Zoho (or a proxy) refused the call's size
CONNECTION_ERROR = "CONNECTION_ERROR"  # no answer after every try: reset, refused, DNS
TIMEOUT = "TIMEOUT"  # no answer within the timeout after every try
UNREADABLE_RESPONSE = "UNREADABLE_RESPONSE"  # not JSON, or JSON of no known shape
NO_RESULT = "NO_RESULT"  # Zoho's 'data' list held no answer for this record
AUTH_FAILED = "AUTH_FAILED"  # no access token could be had
API_CREDITS_EXHAUSTED = "API_CREDITS_EXHAUSTED"
LIMITER_UNAVAILABLE = "LIMITER_UNAVAILABLE"  # the shared limiter (Redis) gave no slot
NOT_SENT_CREDITS = "not sent: the org's API credits for the day are spent"


class Result(Value):
    """What happened to one input operation.

    ``status`` is ``"success"`` or ``"error"``; ``code``, ``message`` and ``details`` are
    Zoho's (or one of this library's codes such as ``TIMEOUT`` when Zoho never answered);
    ``http_status`` is the status of the last answer (``None`` without one); ``attempts`` the
    HTTP requests made for the call that carried it (0 if it was never sent).
    """

    __slots__ = ("_attempts", "_code", "_details", "_http_status", "_message", "_op", "_status")
    __match_args__ = ("op", "status", "code", "message", "details", "http_status", "attempts")
    _FIELDS = __match_args__

    op: Operation = field("op")
    status: str = field("status")
    code: str = field("code")
    message: str = field("message")
    details: Mapping[str, Any] = field("details")
    http_status: int | None = field("http_status")
    attempts: int = field("attempts")

    def __init__(
        self,
        op: Operation,
        status: str,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        http_status: int | None = None,
        attempts: int = 0,
    ) -> None:
        self._op = op
        self._status = status
        self._code = code
        self._message = message
        self._details = {} if details is None else details
        self._http_status = http_status
        self._attempts = attempts

    @property
    def ok(self) -> bool:
        return self._status == SUCCESS


class Part(Protocol):
    """Results of several operations, built when asked for (see ``_merge``)."""

    def ok(self, position: int) -> bool: ...

    def compact(self) -> None: ...

    def results(self, answered: Any) -> list[tuple[int, Result]]: ...

    def code(self, position: int) -> str: ...

    def result(self, position: int, op: Operation | None = None) -> Result: ...


class CompactResults(Sequence[Result]):
    """A report's results, kept as (part, position) per operation and built on access.
    ``ops``: the operations given (a list input), so that ``result.op`` is each one itself."""

    __slots__ = ("_ops", "_parts", "_positions")

    def __init__(
        self, parts: list[Part], positions: array[int], ops: Sequence[Operation] | None = None
    ) -> None:
        self._parts = parts
        self._positions = positions
        self._ops = ops

    def __len__(self) -> int:
        return len(self._parts)

    @overload
    def __getitem__(self, index: int) -> Result: ...

    @overload
    def __getitem__(self, index: slice) -> list[Result]: ...

    def __getitem__(self, index: int | slice) -> Result | list[Result]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        ops = self._ops
        return self._parts[index].result(
            self._positions[index], None if ops is None else ops[index]
        )

    def __iter__(self) -> Iterator[Result]:
        if self._ops is None:
            for part, position in zip(self._parts, self._positions, strict=True):
                yield part.result(position)
        else:
            for part, position, op in zip(self._parts, self._positions, self._ops, strict=True):
                yield part.result(position, op)

    def oks(self) -> Iterator[bool]:
        return map(_ok, self._parts, self._positions)

    def codes(self) -> Iterator[str]:
        return map(_code, self._parts, self._positions)


def _ok(part: Part, position: int) -> bool:
    return part.ok(position)


def _code(part: Part, position: int) -> str:
    return part.code(position)


class Report:
    """Every input operation's result, in input order, plus counts and a few helpers."""

    __slots__ = ("_results", "_succeeded", "calls")

    def __init__(
        self, results: Sequence[Result], calls: int = 0, *, succeeded: int | None = None
    ) -> None:
        self._results = results
        self._succeeded = succeeded  # counted as results came, or when first asked
        #: HTTP requests made (each spends one of the org's API credits)
        self.calls = calls

    @property
    def results(self) -> Sequence[Result]:
        """One :class:`Result` per input operation, in input order."""
        return self._results

    def __len__(self) -> int:
        return len(self._results)

    def __iter__(self) -> Iterator[Result]:
        return iter(self._results)

    def _oks(self) -> Iterator[bool]:
        results = self._results
        if isinstance(results, CompactResults):
            return results.oks()
        return (r.status == SUCCESS for r in results)

    def _codes(self) -> Iterator[str]:
        results = self._results
        if isinstance(results, CompactResults):
            return results.codes()
        return (r.code for r in results)

    @property
    def succeeded(self) -> int:
        """How many operations succeeded."""
        if self._succeeded is None:
            self._succeeded = sum(self._oks())
        return self._succeeded

    @property
    def failed(self) -> int:
        """How many operations did not succeed (Zoho refused them, or they never got through)."""
        return len(self._results) - self.succeeded

    def failures(self) -> list[Result]:
        """The results that are not successes, in input order."""
        results = self._results
        return [results[i] for i, ok in enumerate(self._oks()) if not ok]

    def failed_ops(self) -> list[Operation]:
        """The operations that did not succeed, ready to pass to ``run()`` again."""
        return [r.op for r in self.failures()]

    def by_code(self) -> Counter[str]:
        """How many results carry each code (``SUCCESS``, ``INVALID_DATA``, ``TIMEOUT`` ...)."""
        return Counter(self._codes())

    def _failure_codes(self) -> list[tuple[str, int]]:
        counts = Counter(c for c, ok in zip(self._codes(), self._oks(), strict=True) if not ok)
        return counts.most_common()

    def raise_for_failures(self) -> None:
        """Raise :class:`OperationsFailedError` (carrying this report) if anything failed."""
        failed = self.failed
        if failed:
            codes = ", ".join(f"{c} x{n}" for c, n in self._failure_codes())
            of = f"{len(self)} operation{'s' if len(self) != 1 else ''}"
            raise OperationsFailedError(f"{failed} of {of} failed: {codes}", self)

    def summary(self) -> str:
        """One line a person can read: counts, calls and the codes of failures."""
        line = f"{len(self)} operation{'s' if len(self) != 1 else ''}: {self.succeeded} succeeded"
        line += f", {self.failed} failed in {self.calls} call{'s' if self.calls != 1 else ''}"
        errors = self._failure_codes()
        if errors:
            line += " (" + ", ".join(f"{c}: {n}" for c, n in errors) + ")"
        return line

    def __repr__(self) -> str:
        return f"<Report {self.summary()}>"
