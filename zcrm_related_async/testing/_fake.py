"""The public :class:`FakeZoho`: the HTTP engine plus inspection and control helpers."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from types import TracebackType

from ._models import INJECT_KINDS, FakeStats
from ._outage import Outage
from ._results import JsonDict
from ._server import ZohoServer


class FakeZoho(ZohoServer):
    """An in-process fake Zoho CRM (API domain and accounts server) over real HTTP.

    Keyword arguments (all optional):

    - ``org_concurrency`` (10): API calls in flight beyond this get 429
      ``TOO_MANY_REQUESTS``; None = unlimited.
    - ``update_concurrency`` (None): Zoho's sub-concurrency limit (10): Update Records calls
      of more than 10 records in flight beyond this get 429 ``TOO_MANY_REQUESTS``.
    - ``latency`` (0.0): seconds every API call takes, counted in flight meanwhile.
    - ``token_ttl_requests`` (None) / ``token_ttl_seconds`` (3600): an access token dies
      after that many API calls made with it, or that many seconds.
    - ``refresh_limit`` (None) / ``refresh_window`` (600): at most that many successful
      refreshes per window; beyond, the token endpoint answers ``Access Denied``.
    - ``zoho_token_rules`` (False): Zoho's refresh throttle, 10 tokens per 10 minutes (unless
      ``refresh_limit`` says otherwise). Whatever it says, at most 15 tokens are alive: the
      16th kills the oldest (counted in :attr:`tokens_killed`).
    - ``missing_ids``: ids (record or related) that do not exist.
    - ``modules`` (None): valid module API names; None accepts any identifier (and serves
      the metadata of a few standard modules: Leads, Contacts, Campaigns, Deals ...).
    - ``faults`` (none) / ``seed`` (0): random :class:`Faults` and their RNG seed.
    - ``log_requests`` (True): keep :attr:`requests`; benchmarks turn it off.
    - ``credits`` (None): API credits left; at 0 API calls get the credits 429.
    - ``host`` / ``port`` ("127.0.0.1", 0 = a free port).
    - ``client_id`` / ``client_secret`` / ``refresh_token``: what the token endpoint
      accepts (defaults ``fake-client-id``, ``fake-client-secret``, ``fake-refresh-token``).
    - ``access_token`` (None = random): the value of the first access token.

    ``org_concurrency``, ``latency``, ``credits``, ``log_requests``, ``faults`` and
    ``missing_ids`` may be changed while it runs. See :mod:`zcrm_related_async.testing`
    for a usage example.
    """

    async def __aenter__(self) -> FakeZoho:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def client_id(self) -> str:
        """The client id the token endpoint accepts (settable)."""
        return self._accounts.client_id

    @client_id.setter
    def client_id(self, value: str) -> None:
        self._accounts.client_id = value

    @property
    def client_secret(self) -> str:
        """The client secret the token endpoint accepts (settable)."""
        return self._accounts.client_secret

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self._accounts.client_secret = value

    @property
    def refresh_token(self) -> str:
        """The refresh token the token endpoint accepts (settable)."""
        return self._accounts.refresh_token

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self._accounts.refresh_token = value

    # --- public state ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://HOST:PORT``: the API domain (and the accounts server)."""
        if self._url is None:
            raise RuntimeError("FakeZoho is not started")
        return self._url

    @property
    def accounts_url(self) -> str:
        """The accounts server URL (the same server as :attr:`url`)."""
        return self.url

    @property
    def access_token(self) -> str:
        """The newest access token minted (the initial one until a refresh)."""
        if not self._tokens.newest:
            raise RuntimeError("FakeZoho is not started")
        return self._tokens.newest

    @property
    def stats(self) -> FakeStats:
        """Live counters (the same object for the fake's lifetime)."""
        return self._stats

    @property
    def missing_ids(self) -> set[str]:
        """Record or related ids that do not exist (mutable)."""
        return self._state.missing_ids

    @missing_ids.setter
    def missing_ids(self, ids: Iterable[str]) -> None:
        self._state.missing_ids.clear()
        self._state.missing_ids.update(str(i) for i in ids)

    def inject(self, kind: str, times: int = 1) -> None:
        """Queue a deterministic fault for each of the next ``times`` API calls.

        Kinds: ``"500"``, ``"reset_before"``, ``"reset_after"``, ``"truncated_json"``,
        ``"not_json"``, ``"429"``, ``"slow"``, ``"credits"`` (429: the day's credits are
        spent) and ``"401"`` (INVALID_TOKEN whatever the token). Injected faults are
        consumed first-in first-out, before random ones.
        """
        if kind not in INJECT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {INJECT_KINDS}")
        if times < 0:
            raise ValueError("times must be >= 0")
        self._injected.extend([kind] * times)

    def outage(self, kind: str, seconds: float, after_requests: int | None = None) -> Outage:
        """Plan an outage: for ``seconds``, every API call gets a 500 (``kind="500"``) or has
        its connection dropped (``"drop"``), nothing applied. It starts with the API call after
        the ``after_requests``-th (default: the next one), or once the outages planned before
        it are over. Returns its record, which counts the calls that reached it."""
        start = self._stats.requests if after_requests is None else after_requests
        planned = Outage(kind, seconds, start)
        self._outages.planned.append(planned)
        return planned

    @property
    def outages(self) -> list[Outage]:
        """Every planned outage, in order, with what happened during it."""
        return list(self._outages.planned)

    def relations(self, module: str, record_id: str, related_list: str) -> dict[str, JsonDict]:
        """A copy of the relations of a parent: ``{related_id: fields}`` (ids resolved)."""
        return copy.deepcopy(self._state.related((module, record_id, related_list)))

    def record(self, module: str, record_id: str) -> JsonDict | None:
        """A copy of a record's fields after updates, or None if it was never updated."""
        found = self._state.records.get((module, record_id))
        return None if found is None else copy.deepcopy(found)

    def add_relation(
        self,
        module: str,
        record_id: str,
        related_list: str,
        related_id: str,
        fields: JsonDict | None = None,
    ) -> None:
        """Seed a relation without an API call (e.g. before testing delinks)."""
        self._state.add_relation((module, record_id, related_list), related_id, fields or {})

    def add_external(self, module: str, field: str, value: str, record_id: str) -> None:
        """Make the external value ``value`` of ``module.field`` name record ``record_id``."""
        self._state.add_external(module, field, value, record_id)

    @property
    def tokens_used_up(self) -> int:
        """Access tokens that died of their ``token_ttl_requests`` uses and were followed by
        a newer token (each is counted when the next token is minted)."""
        return self._tokens.used_up

    @property
    def tokens_killed(self) -> int:
        """Live access tokens killed because a 16th was minted."""
        return self._tokens.killed

    def expire_tokens(self) -> None:
        """Kill every access token now, as if they all expired."""
        self._tokens.expire_all()

    def reset_stats(self) -> None:
        """Zero the counters (in place; ``in_flight`` is kept) and clear :attr:`requests`."""
        stats = self._stats
        in_flight = stats.in_flight
        for field in ("requests", "refreshes", "refresh_requests", "puts", "deletes"):
            setattr(stats, field, 0)
        stats.rejected_429 = stats.items = stats.dropped = 0
        stats.by_status.clear()
        stats.in_flight = stats.max_in_flight = in_flight
        stats.max_heavy_updates_in_flight = stats.heavy_updates_in_flight
        self.requests.clear()
