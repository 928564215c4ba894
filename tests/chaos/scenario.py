"""One chaos run: a mixed job against the fake Zoho server with every fault on at once, and
the checks that nothing was lost, doubled or misreported.

The job mixes links (plain ids, and external values full of ``/ ? # % ..``), delinks of seeded
relations and record updates, over parents of very different sizes (so full chunks, partial
chunks and lone operations on Zoho's single-relation endpoints all occur), with a few
nonexistent ids and parents. The server meanwhile answers 5xx, drops connections before and
after applying a call, truncates JSON, sends extra 429s, holds some answers past the client's
timeout, and kills every access token after ``token_ttl_requests`` calls. In its outage phase
the server is down twice in the middle of the job: every call gets a 500 for
``outage_seconds``, later every connection is dropped for as long. The job must ride them out
(the client's outage gate) with every guarantee intact and few calls reaching the dead server.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import attrs

from zcrm_related_async import AsyncClient, Delink, Link, Operation, RefreshTokenAuth, UpdateRecord
from zcrm_related_async.testing import FakeZoho, Faults

#: The issue's fault mix: 5 % 5xx, 3 % reset after apply, 2 % reset before, 1 % truncated
#: JSON, 5 % extra 429, and some answers slower than the client's timeout.
ISSUE_FAULTS = Faults(
    error_5xx=0.05,
    reset_after=0.03,
    reset_before=0.02,
    truncated_json=0.01,
    extra_429=0.05,
    slow=0.01,
)
#: Fault kinds that answer (or drop the connection) before the server authenticates the call.
_BEFORE_AUTH = frozenset({"500", "reset_before", "not_json", "429", "credits", "401"})

EXTERNAL = "Contacts.External_Contact_ID"
#: External values that must reach the server literally (escaped on the way, never split).
_AWKWARD = ("a/b", "q?x=1&y=2", "frag#1", "100%", "sp ace", "..x", "x/../y", "%2e%2e", "+plus")


@attrs.frozen
class ChaosConfig:
    """What to run. The defaults are ``make chaos``'s; the suite runs a smaller one."""

    ops: int = 50_000
    parents: int = 500
    seed: int = 1
    chunk_size: int = 25
    max_concurrency: int = 10
    #: The fake's org limit: above the client's, as slow answers the client gave up on still
    #: hold a server slot for a while.
    org_concurrency: int = 25
    latency: float = 0.002
    faults: Faults = ISSUE_FAULTS
    #: How long a ``slow`` answer is held; longer than ``timeout``.
    slow_seconds: float = 1.0
    token_ttl_requests: int = 150
    #: Share of related ids / records that do not exist.
    missing_rate: float = 0.005
    timeout: float = 0.4
    max_tries: int = 6
    backoff_base: float = 0.02
    backoff_cap: float = 0.2
    #: the outage phase: two outages this long (0 turns it off), starting after this share
    #: of the job's calls each
    outage_seconds: float = 3.0
    outage_at: tuple[float, float] = (0.3, 0.6)
    #: calls that may reach the server during one outage: those in flight when it began, the
    #: tries before the gate closed (aiohttp sends a PUT again once on a dropped kept-alive
    #: connection), and the probes
    max_outage_requests: int = 60


@attrs.define
class Workload:
    ops: list[Operation]
    #: positions of operations that cannot succeed (a nonexistent id, value or parent)
    doomed: set[int]
    #: external value -> the record id it names
    externals: dict[str, str]
    missing_ids: set[str]
    #: (parent, related id) of relations seeded before the job, for the delinks
    seeded: list[tuple[str, str]]


@attrs.define
class ChaosOutcome:
    """The figures of a run and every broken guarantee found (``violations``)."""

    config: ChaosConfig
    operations: int
    valid: int
    valid_succeeded: int
    by_code: Counter[str]
    requests: int
    faults: Counter[str]
    answers_401: int
    token_uses: int
    refreshes: int
    refresh_requests: int
    client_refreshes: int
    seconds: float
    violations: list[str]
    #: calls that reached the server during each outage
    outage_requests: list[int] = attrs.field(factory=list)

    @property
    def success_rate(self) -> float:
        """Share of the operations that could succeed which did."""
        return self.valid_succeeded / self.valid if self.valid else 1.0

    @property
    def expiries(self) -> int:
        """Access tokens the job outlived: each served ``token_ttl_requests`` calls and a
        later call found it dead. (A token whose last use ended the job needed no refresh.)"""
        return max(self.token_uses - 1, 0) // self.config.token_ttl_requests

    def problems(self) -> list[str]:
        """Every guarantee this run broke: the violations, the success rate, the refreshes."""
        found = list(self.violations)
        if self.success_rate < 0.995:
            found.append(f"only {self.success_rate:.4%} of valid operations succeeded")
        # One refresh to start with, then one per expiry (single flight). Token uses are
        # counted from the request log, which cannot always tell a call the server turned
        # away for concurrency before spending a use (its answer was then dropped): +-1.
        if abs(self.refreshes - 1 - self.expiries) > 1:
            found.append(f"{self.refreshes} token refreshes for {self.expiries} expiries")
        for number, requests in enumerate(self.outage_requests, 1):
            if requests > self.config.max_outage_requests:
                found.append(f"{requests} calls reached the server during outage {number}")
        return found

    def summary(self) -> str:
        faults = ", ".join(f"{k} {n}" for k, n in sorted(self.faults.items()))
        failed = ", ".join(f"{k} {n}" for k, n in self.by_code.most_common() if k != "SUCCESS")
        return "\n".join(
            [
                f"operations        {self.operations} ({self.valid} valid)",
                f"valid succeeded   {self.valid_succeeded} ({self.success_rate:.3%})",
                f"failures          {failed or 'none'}",
                f"requests          {self.requests} (faults: {faults})",
                f"token expiries    {self.expiries} (every {self.config.token_ttl_requests} "
                f"calls; {self.answers_401} answers were 401)",
                f"token refreshes   {self.refreshes} (1 initial + one per expiry expected; "
                f"{self.refresh_requests} token requests)",
                f"outages           {len(self.outage_requests)} of "
                f"{self.config.outage_seconds:g}s; calls reaching the server during each: "
                f"{self.outage_requests or '-'}",
                f"seconds           {self.seconds:.1f}",
                f"violations        {len(self.problems())}",
            ]
        )


def _id(n: int) -> str:
    return str(4876876000000000000 + n)


def build_workload(config: ChaosConfig) -> Workload:
    """The operations (shuffled, so parents interleave) and what the server must know first."""
    rng = random.Random(config.seed)
    serial = iter(range(1, 10**9))
    # Parent sizes vary a lot: a squared exponential weight gives many small parents (lone
    # operations, partial chunks) and a few large ones (many full chunks).
    kinds = ["link"] * 7 + ["external"] + ["delink"] * 2
    parents = [(kinds[p % len(kinds)], _id(next(serial))) for p in range(config.parents)]
    weights = [rng.expovariate(1.0) ** 2 + 0.01 for _ in parents]
    # One link parent and one delink parent do not exist: each of their calls fails whole.
    missing_parents = {parents[0][1], parents[8 % len(parents)][1]}
    missing = set(missing_parents)
    ops: list[Operation] = []
    doomed: set[int] = set()
    externals: dict[str, str] = {}
    seeded: list[tuple[str, str]] = []
    updates = config.ops // 10

    def add(op: Operation, bad: bool) -> None:
        if bad:
            doomed.add(len(ops))
        ops.append(op)

    while len(ops) < config.ops - updates:
        if ops and rng.random() < 0.01:  # now and then the same operation twice
            add(ops[-1], len(ops) - 1 in doomed)
            continue
        kind, parent = rng.choices(parents, weights)[0]
        n = next(serial)
        absent = rng.random() < config.missing_rate
        bad = absent or parent in missing_parents
        if kind == "link":
            related = _id(n)
            if absent:
                missing.add(related)
            add(Link("Campaigns", parent, "Leads", related, {"Member_Status": f"S{n % 7}"}), bad)
        elif kind == "external":
            value = f"{rng.choice(_AWKWARD)}-{n}"
            if not absent:  # an unregistered external value names no record
                externals[value] = _id(n)
            fields = {"Contact_Role": f"R{n % 5}"}
            add(Link("Deals", parent, "Contacts", value, fields, external=EXTERNAL), bad)
        else:
            related = _id(n)
            if absent:
                missing.add(related)
            else:
                seeded.append((parent, related))
            add(Delink("Campaigns", parent, "Contacts", related), bad)
    for _ in range(updates):
        n = next(serial)
        record = _id(n)
        absent = rng.random() < config.missing_rate
        if absent:
            missing.add(record)
        trigger = rng.choice([None, ["workflow"]])
        add(UpdateRecord("Leads", record, {"Rating": f"r{n}"}, trigger=trigger), absent)
    order = list(range(len(ops)))
    rng.shuffle(order)
    return Workload(
        [ops[i] for i in order],
        {new for new, old in enumerate(order) if old in doomed},
        externals,
        missing,
        seeded,
    )


async def run_chaos(config: ChaosConfig) -> ChaosOutcome:
    """Run the workload against a faulty fake and check every guarantee."""
    work = build_workload(config)
    faults = attrs.evolve(config.faults, slow_seconds=config.slow_seconds)
    async with FakeZoho(
        org_concurrency=config.org_concurrency,
        latency=config.latency,
        token_ttl_requests=config.token_ttl_requests,
        missing_ids=work.missing_ids,
        faults=faults,
        seed=config.seed,
    ) as fake:
        for value, record in work.externals.items():
            fake.add_external("Contacts", "External_Contact_ID", value, record)
        for parent, related in work.seeded:
            fake.add_relation("Campaigns", parent, "Contacts", related)
        outages = []
        if config.outage_seconds > 0:
            calls = len(work.ops) / config.chunk_size  # about: parents share no chunk
            for share, kind in zip(config.outage_at, ("500", "drop"), strict=True):
                outages.append(fake.outage(kind, config.outage_seconds, int(calls * share)))
        auth = RefreshTokenAuth(
            fake.client_id, fake.client_secret, fake.refresh_token, fake.accounts_url
        )
        started = time.monotonic()
        async with AsyncClient(
            api_domain=fake.url,
            auth=auth,
            max_concurrency=config.max_concurrency,
            chunk_size=config.chunk_size,
            timeout=config.timeout,
            max_tries=config.max_tries,
            backoff_base=config.backoff_base,
            backoff_cap=config.backoff_cap,
        ) as zoho:
            report = await zoho.run(work.ops)
        seconds = time.monotonic() - started

        violations: list[str] = []
        if len(report) != len(work.ops):
            violations.append(f"{len(report)} results for {len(work.ops)} operations")
        state = _ServerState(fake, work.externals)
        valid = succeeded = 0
        for index, (op, result) in enumerate(zip(work.ops, report.results, strict=False)):
            if result.op != op:
                violations.append(f"result {index} answers another operation")
            if index in work.doomed:
                # Zoho's INVALID_DATA, or (when the fault hit that answer) UNREADABLE_RESPONSE:
                # anything but a success
                if result.ok:
                    violations.append(f"nonexistent id reported a success: {op!r}")
                continue
            valid += 1
            if result.ok:
                succeeded += 1
                problem = state.contradicts(op)
                if problem:
                    violations.append(f"reported success but {problem}: {op!r}")

        # A call spent a use of its token if it passed the early faults and the concurrency
        # check (a 429 never follows a use) and its token was alive.
        uses = sum(
            1
            for r in fake.requests
            if r.token_ok and r.fault not in _BEFORE_AUTH and r.status != 429
        )
        return ChaosOutcome(
            config=config,
            operations=len(work.ops),
            valid=valid,
            valid_succeeded=succeeded,
            by_code=report.by_code(),
            requests=fake.stats.requests,
            faults=Counter(r.fault for r in fake.requests if r.fault),
            answers_401=fake.stats.by_status.get(401, 0),
            token_uses=uses,
            refreshes=fake.stats.refreshes,
            refresh_requests=fake.stats.refresh_requests,
            client_refreshes=auth.refreshes,
            seconds=seconds,
            violations=violations,
            outage_requests=[outage.requests for outage in outages],
        )


class _ServerState:
    """The fake's final state, read once per parent record."""

    def __init__(self, fake: FakeZoho, externals: dict[str, str]) -> None:
        self._fake = fake
        self._externals = externals
        self._relations: dict[tuple[str, str, str], dict[str, Any]] = {}

    def contradicts(self, op: Operation) -> str | None:
        """Why the server's state contradicts a success reported for ``op`` (None if not)."""
        if isinstance(op, UpdateRecord):
            record = self._fake.record(op.module, op.record_id)
            if record is None or any(record.get(k) != v for k, v in op.fields.items()):
                return f"the record holds {record!r}"
            return None
        key = (op.module, op.record_id, op.related_list)
        relations = self._relations.get(key)
        if relations is None:
            relations = self._relations[key] = self._fake.relations(*key)
        related = self._externals.get(op.related_id, "?") if op.external else op.related_id
        if isinstance(op, Delink):
            return "the relation is still there" if related in relations else None
        if related not in relations:
            return "the relation is missing"
        if relations[related] != dict(op.fields or {}):
            return f"the relation holds {relations[related]!r}"
        return None
