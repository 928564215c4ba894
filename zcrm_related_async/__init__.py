"""zcrm_related_async: an asyncio client with automatic batching for Zoho CRM related records.

Hand it any number of link, update and delink operations; it groups them by parent record and
related list, sends calls of at most 100, runs them concurrently under the org's limit,
retries what is worth retrying and returns one result per operation, in input order.
"""

from ._auth import Auth, CallableAuth, RefreshTokenAuth, StaticTokenAuth
from ._client import AsyncClient
from ._exceptions import (
    AuthError,
    ClientClosedError,
    ConfigurationError,
    CreditsExhaustedError,
    InvalidOperationError,
    LimiterUnavailableError,
    OperationsFailedError,
    RefreshThrottledError,
    RelatedReadError,
    TokenCacheUnavailableError,
    TokenRefreshError,
    TooManyRemovalsError,
    ZohoError,
)
from ._job import Job, ResultStream
from ._limiter import Limiter, LocalLimiter
from ._ops import Delink, Link, Operation, UpdateRecord
from ._redis import RedisLimiter
from ._redis_token import RedisTokenCache
from ._report import Report, Result
from ._stats import ClientStats
from ._sync import Client
from ._token_cache import CachedToken, MemoryTokenCache, TokenCache
from ._version import __version__

__all__ = [
    "AsyncClient",
    "Auth",
    "AuthError",
    "CachedToken",
    "CallableAuth",
    "Client",
    "ClientClosedError",
    "ClientStats",
    "ConfigurationError",
    "CreditsExhaustedError",
    "Delink",
    "InvalidOperationError",
    "Job",
    "Limiter",
    "LimiterUnavailableError",
    "Link",
    "LocalLimiter",
    "MemoryTokenCache",
    "Operation",
    "OperationsFailedError",
    "RedisLimiter",
    "RedisTokenCache",
    "RefreshThrottledError",
    "RefreshTokenAuth",
    "RelatedReadError",
    "Report",
    "Result",
    "ResultStream",
    "StaticTokenAuth",
    "TokenCache",
    "TokenCacheUnavailableError",
    "TokenRefreshError",
    "TooManyRemovalsError",
    "UpdateRecord",
    "ZohoError",
    "__version__",
]
