"""Counts as a person reads them: "1 line", "2 lines", "1,000 API calls"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (``plural`` when adding "s" is wrong)."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
