"""What a person sees while a job runs and after: a progress bar on a terminal, a progress line
every few seconds in a log, and a summary table at the end.

The bar is drawn by a task on the job's own loop at most ten times a second, whatever the rate
of outcomes: counting an outcome is two additions, so a million of them cost nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import TextIO

from .plan import KINDS
from .words import counted

#: seconds between redraws of the bar
BAR_EVERY = 0.1
#: the rate (and so the ETA) is measured over this many seconds of the recent past
RATE_WINDOW = 10.0


class Tally:
    """Lines with an outcome so far, by operation kind and by code."""

    def __init__(self) -> None:
        self.done = 0
        self.failed = 0
        #: kind -> [lines, succeeded]
        self.kinds: dict[str, list[int]] = {}
        self.codes: Counter[str] = Counter()

    def add(self, kind: str, status: str, code: str, lines: int = 1) -> None:
        """Count ``lines`` (one by default) of ``kind`` that came to ``status`` and ``code``."""
        self.done += lines
        counts = self.kinds.setdefault(kind, [0, 0])
        counts[0] += lines
        if status == "success":
            counts[1] += lines
        else:
            self.failed += lines
        self.codes[code] += lines


class Progress:
    """Shows ``count()`` of ``total`` while a phase of the job runs.

    ``mode``: ``bar`` redraws one line on a terminal, ``log`` writes a line every ``every``
    seconds, ``off`` shows nothing; ``auto`` is ``bar`` on a terminal and ``log`` otherwise.
    """

    def __init__(
        self,
        stream: TextIO,
        mode: str,
        every: float,
        label: str,
        count: Callable[[], int],
        total: int | None = None,
        failed: Callable[[], int] | None = None,
    ) -> None:
        if mode == "auto":
            mode = "bar" if _is_terminal(stream) else "log"
        self.mode = mode
        self._stream = stream
        self._every = BAR_EVERY if mode == "bar" else every
        self._label = label
        self._count = count
        self._total = total
        self._failed = failed
        self._started = time.monotonic()
        self._first = count()
        self._samples: deque[tuple[float, int]] = deque([(self._started, self._first)])
        self._task: asyncio.Task[None] | None = None
        self._width = 0  # of the bar line last drawn, to blank it out

    def start(self) -> None:
        if self.mode != "off":
            self._task = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        """Draw the last state and end the line (the bar's line stays on screen)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._draw()
            if self.mode == "bar":
                self._stream.write("\n")
                self._stream.flush()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            self._draw()

    def _draw(self) -> None:
        text = self.line()
        if self.mode == "bar":
            pad = " " * max(0, self._width - len(text))
            self._width = len(text)
            self._stream.write("\r" + text + pad)
        else:
            self._stream.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        self._stream.flush()

    def line(self) -> str:
        """The progress as one line: done of total, rate, ETA and failures."""
        now = time.monotonic()
        done = self._count()
        samples = self._samples
        samples.append((now, done))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        span = now - samples[0][0]
        rate = (done - samples[0][1]) / span if span > 0 else 0.0
        parts = [f"{self._label}: {done:,}"]
        if self._total:
            fraction = min(1.0, done / self._total)
            parts[0] += "/" + counted(self._total, "line")
            left = self._total - done
            eta = _clock(left / rate) if rate > 0 else "--:--:--"
            tail = [f"{rate:,.0f}/s", f"ETA {eta}"]
        else:
            parts[0] += " line" if done == 1 else " lines"
            tail = [f"{rate:,.0f}/s"]
        if self._failed is not None:
            tail.append(f"{self._failed():,} failed")
        if self.mode == "bar" and self._total:
            text = f"{fraction:>6.1%}  " + "  ".join(parts + tail)
            room = _columns(self._stream) - len(text) - 4  # the cursor must not wrap
            return f"{_bar(fraction, min(30, room))}{text}"
        if self._total:
            parts[0] += f" ({fraction:.1%})"
        return ", ".join(parts + tail)


def summary(
    tally: Tally, report: str, calls: int, seconds: float, resumed: int, interrupted: bool
) -> str:
    """The table printed at the end: lines by operation kind and by code, and the report."""
    ok = tally.done - tally.failed
    total = counted(tally.done, "line")
    out = [f"report: {report} ({total}: {ok:,} succeeded, {tally.failed:,} failed)"]
    out.append(f"  {'operation':<10} {'lines':>12} {'succeeded':>12} {'failed':>10}")
    for kind in (*KINDS, *sorted(set(tally.kinds) - set(KINDS))):
        if kind in tally.kinds:
            lines, succeeded = tally.kinds[kind]
            out.append(f"  {kind:<10} {lines:>12,} {succeeded:>12,} {lines - succeeded:>10,}")
    out.append(f"  {'total':<10} {tally.done:>12,} {ok:>12,} {tally.failed:>10,}")
    out.append("")
    out.append(f"  {'code':<28} {'lines':>12}")
    out += [f"  {code:<28} {n:>12,}" for code, n in tally.codes.most_common()]
    run = tally.done - resumed
    rate = f", {run / seconds:,.0f} lines/s" if seconds > 0 and run > 0 else ""
    line = f"this run: {counted(run, 'line')}, {counted(calls, 'API call')}, {seconds:.1f} s{rate}"
    if resumed:
        were = "was" if resumed == 1 else "were"
        line += f" ({counted(resumed, 'line')} {were} done before, according to the journal)"
    out.append(line)
    if interrupted:
        out.append("interrupted: the report holds the lines done so far")
    return "\n".join(out)


def _bar(fraction: float, width: int) -> str:
    if width < 10:
        return ""
    filled = int(fraction * width)
    return "[" + "#" * filled + "." * (width - filled) + "] "


def _clock(seconds: float) -> str:
    seconds = int(min(seconds, 359_999))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _columns(stream: TextIO) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns or shutil.get_terminal_size().columns  # 0: a terminal that will not say


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
