"""Which input line and kind each stream position came from, kept in runs."""

from __future__ import annotations

import random

import pytest

from zcrm_related_async._cli.sent import SentLines


@pytest.mark.parametrize("seed", range(20))
def test_every_position_gives_back_the_line_and_kind_it_was_added_with(seed: int) -> None:
    rng = random.Random(seed)
    sent, added = SentLines(), []
    line = rng.randint(1, 3)
    mixed = seed % 2 == 1
    for _ in range(rng.randint(1, 400)):
        kind = rng.randint(0, 2) if mixed and rng.random() < 0.1 else 0
        sent.add(line, kind)
        added.append((line, kind))
        line += 1 if rng.random() < 0.8 else rng.randint(2, 50)  # skipped or blank lines
    assert sent.count == len(added)
    assert [(sent.line(p), sent.kind(p)) for p in range(len(added))] == added


def test_consecutive_lines_of_one_kind_keep_one_run() -> None:
    sent = SentLines()
    for line in range(2, 100_002):
        sent.add(line, 1)
    assert (sent.line(0), sent.line(99_999), sent.kind(5)) == (2, 100_001, 1)
    assert len(sent._starts) == 1
    assert sent._kinds is None
