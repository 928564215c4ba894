"""Benchmarks of zcrm_related_async against the fake Zoho server, run by ``make bench``.

The fake server runs in its own process on its own core; every client runs in a fresh
process on the other core, so its CPU time and peak memory are its own. Modules:

- ``workload``: the job (links from campaigns to leads) and the state it must leave.
- ``machine``: cores, pinning, CPU time of another process, what machine this is.
- ``server``: the fake Zoho server as a subprocess.
- ``client``: one client run in its own process (the library or a baseline), as JSON.
- ``library``: how the harness drives the library; ``baselines/``: what it is compared to.
- ``verify``: reads the server's state back over HTTP and compares it with the workload's.
- ``ceiling``: the fake's own ceiling, measured with wrk.
- ``suite``: the scenarios and the figures; ``tables``: printing them; ``__main__``: the CLI.
- ``profiling``: py-spy and tracemalloc helpers (not part of ``make bench``).
"""
