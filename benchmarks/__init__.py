"""Benchmarks of zcrm_related_async against the fake Zoho server, run by ``make bench``.

The fake server runs in its own process on its own core; every client runs in a fresh
process on the other core, so its CPU time and peak memory are its own. Modules:

- ``workload``: the job (links from campaigns to leads) and the state it must leave.
- ``machine``: cores, pinning, CPU time of other processes, what machine this is.
- ``server``: the fake Zoho server as a subprocess.
- ``client``: one client run in its own process (the library or a baseline), as JSON;
  ``library``: how it drives the library; ``baselines/``: what the library is compared to;
  ``outcome``: what every client hands back.
- ``runner``: one measurement (fresh server, client process, verification, noise);
  ``command_line``: the same for the ``zcrm-related run`` command on a file.
- ``verify``: reads the server's state back over HTTP and compares it with the workload's.
- ``ceiling``: the fake's own ceiling, measured with wrk (``put100.lua``).
- ``suite``: the scenarios; ``tables``: the tables and the figures; ``__main__``: the CLI.
- ``profiling``: py-spy and tracemalloc helpers (not part of ``make bench``).
"""
