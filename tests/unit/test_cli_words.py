"""``counted``: how the command's messages say a number of things."""

from __future__ import annotations

import pytest

from zcrm_related_async._cli.words import counted


@pytest.mark.parametrize(
    ("n", "noun", "said"),
    [
        (0, "line", "0 lines"),
        (1, "line", "1 line"),
        (2, "bad line", "2 bad lines"),
        (1, "API call", "1 API call"),
        (12_345, "call", "12,345 calls"),
    ],
)
def test_counted_is_singular_for_one_only(n: int, noun: str, said: str) -> None:
    assert counted(n, noun) == said


def test_counted_takes_an_irregular_plural() -> None:
    assert counted(3, "entry", "entries") == "3 entries"
    assert counted(1, "entry", "entries") == "1 entry"
