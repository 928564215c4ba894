"""Every exception the library raises, in one tree.

Per-record outcomes (a relation Zoho refused, a chunk that failed after its retries) are *values*
in the report, never exceptions. Exceptions are for the caller's mistakes and for conditions
that stop a whole job::

    ZohoError
    ├── InvalidOperationError (ValueError)   bad input, raised before any request is sent
    ├── ConfigurationError (ValueError)      bad client settings
    ├── AuthError                            no access token could be had
    │   ├── TokenRefreshError                the accounts server refused a refresh
    │   │   └── RefreshThrottledError        ... because refreshes are throttled ("Access Denied")
    │   └── TokenCacheUnavailableError       a shared token cache (Redis) did not answer
    ├── ClientClosedError (RuntimeError)     the client (or the session given to it) is closed
    ├── CreditsExhaustedError                the org's API credits for the day are spent
    ├── LimiterUnavailableError              a shared limiter's store (Redis) did not answer
    ├── RelatedReadError                     a page of a related list could not be read
    ├── TooManyRemovalsError (ValueError)    ``set_related`` would delink more than allowed
    └── OperationsFailedError                raised by ``Report.raise_for_failures()``

None of their messages holds a token or a client secret.

Any exception that leaves a job after it started (a bad item deep in a stream, an exception
raised by the input generator, spent credits, a closed client) carries ``error.report``: one
result per operation read, ``NOT_ATTEMPTED`` for those never sent. The job sets it on
exceptions of other types too (the generator's own ``ValueError``, say), where Python allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._report import Report


class ZohoError(Exception):
    """Base of every exception raised by zcrm_related_async."""


class InvalidOperationError(ZohoError, ValueError):
    """An operation (or the arguments that make one) is not something Zoho could accept.

    ``index`` is the operation's position in the input (``None`` when the operation was built
    directly), ``field`` the attribute or key at fault.
    """

    #: set when the error stopped a job that had started: what became of each operation read
    report: Report | None = None

    def __init__(self, field: str, problem: str, index: int | None = None) -> None:
        self.field = field
        self.problem = problem
        self.index = index
        where = f"operation {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {problem}")

    def at(self, index: int) -> InvalidOperationError:
        """The same error, naming the operation's position in the input."""
        return InvalidOperationError(self.field, self.problem, index)


class ConfigurationError(ZohoError, ValueError):
    """A client setting is invalid (unknown data centre, chunk size outside 1-100, ...)."""


class AuthError(ZohoError):
    """No valid access token could be obtained."""


class TokenRefreshError(AuthError):
    """The accounts server did not mint an access token from the refresh token."""


class RefreshThrottledError(TokenRefreshError):
    """Zoho throttles refreshes (at most 10 tokens per 10 minutes per refresh token)."""


class TokenCacheUnavailableError(AuthError):
    """The shared token cache's store (Redis) did not answer, so no access token could be had.

    The calls that needed a token report ``AUTH_FAILED`` and nothing was sent for them.
    """


class LimiterUnavailableError(ZohoError):
    """The shared limiter's store (Redis) did not answer, so no call slot could be taken.

    Raised by ``RedisLimiter.slot()`` on entry; nothing was sent and no slot is held (one the
    store may have granted unseen is given back, or comes back when its lease runs out). The
    client retries the call like a connection error, then reports ``LIMITER_UNAVAILABLE``.
    """


class _ReportError(ZohoError):
    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


class ClientClosedError(ZohoError, RuntimeError):
    """The client is closed, or the ``aiohttp.ClientSession`` passed to it is closed.

    Raised by every method of a closed client before anything is sent; a job that
    :meth:`AsyncClient.close` ended raises it too, with ``report`` accounting for every
    operation read (``CANCELLED`` if its call may have been applied, else ``NOT_ATTEMPTED``).
    """

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report


class CreditsExhaustedError(_ReportError):
    """Zoho answered that the org's API credits for the day are spent.

    Retrying is pointless until the credits roll over, so the job stops at once. ``report``
    accounts for every operation: those not sent carry the code ``API_CREDITS_EXHAUSTED``.
    """


class OperationsFailedError(_ReportError):
    """Some operations failed; ``report`` says which (see ``Report.raise_for_failures``)."""


class RelatedReadError(ZohoError):
    """A page of a related list could not be read, after its retries (or at once, when
    Zoho's answer stands: a parent that does not exist, a related list Zoho does not know).

    ``module``, ``record_id``, ``related_list`` and ``page`` say which read; ``code`` is
    Zoho's code (or this library's: ``TIMEOUT``, ``API_CREDITS_EXHAUSTED`` when the org's
    credits for the day are spent, which is never retried), ``http_status`` the last answer's
    status (``None`` without one) and ``attempts`` the requests made for that page.
    """

    def __init__(
        self,
        module: str,
        record_id: str,
        related_list: str,
        page: int,
        code: str,
        message: str,
        http_status: int | None,
        *,
        attempts: int = 0,
    ) -> None:
        self.module = module
        self.record_id = record_id
        self.related_list = related_list
        self.page = page
        self.code = code
        self.message = message
        self.http_status = http_status
        self.attempts = attempts
        status = f"HTTP {http_status}" if http_status is not None else "no answer"
        super().__init__(
            f"reading {module}/{record_id}/{related_list} page {page} failed after "
            f"{attempts} request(s): {code} ({status}) {message:.200}".rstrip()
        )


class TooManyRemovalsError(ZohoError, ValueError):
    """``set_related`` would delink more of the current list than ``max_remove`` allows.

    Raised after the read and before any change: nothing was sent. ``current`` is the size of
    the list Zoho holds, ``remove`` how many of its records the target leaves out, ``allowed``
    the most ``max_remove`` lets go. An empty target never wipes a non-empty list.
    """

    def __init__(self, message: str, current: int, remove: int, allowed: int) -> None:
        super().__init__(message)
        self.current = current
        self.remove = remove
        self.allowed = allowed
