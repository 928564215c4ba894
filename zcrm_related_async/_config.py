"""Every default and every table of Zoho facts, in one place.

Sources: https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html (data centres),
https://www.zoho.com/crm/developer/docs/api/v8/api-limits.html (limits), and the seed pages in
``shared/seeds`` (100 records a call).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from ._exceptions import ConfigurationError

#: Zoho accepts at most 100 related records, ids or records in one call.
MAX_CHUNK_SIZE = 100
DEFAULT_VERSION = "v8"
DEFAULT_MAX_CONCURRENCY = 10
# Zoho's sub-concurrency limit: Update Records calls of more than 10 records, at most 10 in
# flight per org whatever its plan's limit (over it: 429); held by their own limiter.
HEAVY_UPDATE_RECORDS = 10
HEAVY_UPDATE_CONCURRENCY = 10
#: Seconds one HTTP request (connect, send, wait, read) may take, the token refresh included.
DEFAULT_TIMEOUT = 30.0
#: HTTP requests one chunk may make before its records are reported as failed.
DEFAULT_MAX_TRIES = 6
#: Seconds of retrying one chunk before giving up on it.
DEFAULT_MAX_RETRY_TIME = 300.0
#: Exponential backoff: first wait ``BACKOFF_BASE`` seconds, doubling, never over ``BACKOFF_CAP``.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
#: A ``Retry-After`` is honoured up to this many seconds; longer asks are capped.
RETRY_AFTER_CAP = 60.0
#: Seconds a job waits for Zoho to come back from an outage before what it holds fails.
DEFAULT_MAX_OUTAGE = 600.0
#: Transient failures in a row, from two chunks or more, with no answer between, that make an
#: outage (see ``_outage_state``).
OUTAGE_TRIP_AFTER = 5
#: During an outage, one probe call goes out after OUTAGE_FIRST_PROBE seconds, then after each
#: wait doubled up to OUTAGE_PROBE_CAP: a 30 s outage costs 6 probes, and the job resumes at
#: most 15 s after Zoho is back.
OUTAGE_FIRST_PROBE = 1.0
OUTAGE_PROBE_CAP = 15.0
#: Operations held while grouping a stream before the oldest group is sent unfilled. At 100 per
#: call this lets 1,000 interleaved parent records still fill every call.
DEFAULT_MAX_BUFFERED = 100_000
#: Results a ``stream()`` lets wait for its consumer, counting those of the calls under way:
#: past it the job reads no more input until the consumer catches up.
DEFAULT_STREAM_LIMIT = 4_000
#: Seconds a small link()/delink()/update_records() waits for other callers to the same
#: parent and related list, to share one call with them (0 turns it off).
DEFAULT_LINGER = 0.005
#: ``set_related`` refuses a plan that delinks more than this share of the current list.
DEFAULT_MAX_REMOVE = 0.5
#: Refresh an access token this long before Zoho says it expires (at most a tenth of its life).
TOKEN_REFRESH_MARGIN = 300.0
#: After a failed refresh, callers get the same error for this long instead of asking again:
#: one refresh token mints at most 10 access tokens per 10 minutes.
REFRESH_FAILURE_COOLDOWN = 30.0
#: Tries of one token refresh against connection errors and 5xx answers.
REFRESH_MAX_TRIES = 3

#: data centre -> (API domain suffix, accounts server). Production hosts are ``www.``,
#: the others ``sandbox.`` and ``developer.``.
DATA_CENTERS: dict[str, tuple[str, str]] = {
    "us": ("zohoapis.com", "https://accounts.zoho.com"),
    "eu": ("zohoapis.eu", "https://accounts.zoho.eu"),
    "in": ("zohoapis.in", "https://accounts.zoho.in"),
    "au": ("zohoapis.com.au", "https://accounts.zoho.com.au"),
    "jp": ("zohoapis.jp", "https://accounts.zoho.jp"),
    "ca": ("zohoapis.ca", "https://accounts.zohocloud.ca"),
    "sa": ("zohoapis.sa", "https://accounts.zoho.sa"),
    "cn": ("zohoapis.com.cn", "https://accounts.zoho.com.cn"),
}
ENVIRONMENTS: dict[str, str] = {
    "production": "www",
    "sandbox": "sandbox",
    "developer": "developer",
}
#: The Zoho CRM API versions there are (https://www.zoho.com/crm/developer/docs/api/v8/ lists
#: the others); each serves the related-records and update-records endpoints this client calls.
VERSIONS = ("v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8")
#: What ``trigger`` of Update Records may hold: the automation Zoho runs on the update
#: (https://www.zoho.com/crm/developer/docs/api/v8/update-records.html). Anything else, a typo
#: such as "workflows" included, makes Zoho run none of it without a word.
TRIGGERS = ("workflow", "approval", "blueprint", "pathfinder", "orchestration")
_PATHS = {"api_domain": "/crm/{version}/...", "accounts_url": "/oauth/v2/token"}
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def resolve_api_domain(api_domain: str | None, data_center: str, environment: str) -> str:
    """The API base URL (scheme and host, no trailing slash) a client talks to."""
    if api_domain is not None:
        return check_base_url(api_domain, "api_domain")
    suffix, _ = _data_center(data_center)
    prefix = ENVIRONMENTS.get(environment)
    if prefix is None:
        raise ConfigurationError(
            f"environment: unknown environment {environment!r}; "
            f"expected one of {', '.join(ENVIRONMENTS)}"
        )
    return f"https://{prefix}.{suffix}"


def default_accounts_url(data_center: str) -> str:
    """The accounts (OAuth) server of a data centre."""
    return _data_center(data_center)[1]


def check_version(version: str) -> str:
    """``version`` if it names a Zoho CRM API version (:data:`VERSIONS`: v2, v2.1, v3 ... v8)."""
    if not isinstance(version, str) or version not in VERSIONS:
        raise ConfigurationError(f"version: expected one of {', '.join(VERSIONS)}, got {version!r}")
    return version


def unknown_triggers(trigger: Iterable[str]) -> list[str]:
    """The entries of ``trigger`` that are not in :data:`TRIGGERS`, in order."""
    return [item for item in trigger if item not in TRIGGERS]


def check_base_url(url: str, name: str) -> str:
    """A base URL (scheme, host, port) without trailing slash; plain http only to a loopback
    host.

    A token sent over plain http to another host can be read by anyone on the way. A path is
    refused: the client appends ``/crm/v8/...`` (or ``/oauth/v2/token``) itself, so
    ``https://www.zohoapis.com/crm/v8`` would make every call ``INVALID_URL_PATTERN``.
    """
    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"{name}: expected a URL such as 'https://www.zohoapis.com'")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{name}: expected an http(s) URL, got {url!r}")
    loopback = parts.hostname in _LOOPBACK_HOSTS or _is_loopback_address(parts.hostname)
    if parts.scheme == "http" and not loopback:
        raise ConfigurationError(
            f"{name}: refusing to send tokens over plain http to {parts.hostname!r}; "
            "use https (plain http is allowed to loopback addresses only)"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{name}: a base URL has no query or fragment, got {url!r}")
    if parts.path.strip("/"):
        host = f"{parts.scheme}://{parts.netloc}"
        raise ConfigurationError(
            f"{name}: give the host only, such as {host!r}, not a path ({parts.path!r}): "
            f"the client adds {_PATHS.get(name, 'the path')} itself"
        )
    return url.rstrip("/")


def _is_loopback_address(host: str) -> bool:
    # An address, not a name: "127.evil.example" merely starts like one.
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _data_center(data_center: str) -> tuple[str, str]:
    found = DATA_CENTERS.get(data_center.lower()) if isinstance(data_center, str) else None
    if found is None:
        raise ConfigurationError(
            f"data_center: unknown data centre {data_center!r}; "
            f"expected one of {', '.join(DATA_CENTERS)}"
        )
    return found
