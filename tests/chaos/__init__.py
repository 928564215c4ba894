"""Chaos runs: many operations against the fake Zoho server with every fault switched on.

``python -m tests.chaos`` (or ``make chaos``) runs a big one; ``tests/integration/test_chaos.py``
runs a small one with a fixed seed. :func:`tests.chaos.scenario.run_chaos` is shared by both.
"""
