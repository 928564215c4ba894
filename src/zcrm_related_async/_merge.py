"""Turning one call's outcome into one result per input operation. Pure."""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from ._batching import Chunk
from ._report import ERROR, NO_RESULT, SUCCESS, UNREADABLE_RESPONSE, Result
from ._wire import Answer, Parsed, PerRecord, Unreadable, WholeCall


@attrs.frozen
class Failed:
    """No usable answer: every record of the call gets this outcome."""

    code: str
    message: str
    http_status: int | None = None


def chunk_results(
    chunk: Chunk, outcome: Parsed | Failed, http_status: int | None, attempts: int
) -> Iterator[tuple[int, Result]]:
    """``(input position, result)`` for every input operation the chunk carried."""
    if isinstance(outcome, PerRecord):
        answers: list[Answer | None] = outcome.answers
    elif isinstance(outcome, WholeCall):
        answers = [outcome.answer] * len(chunk.ops)
    else:
        if isinstance(outcome, Unreadable):
            outcome = Failed(UNREADABLE_RESPONSE, f"Zoho's answer was {outcome.reason}")
        answers = [Answer(ERROR, outcome.code, outcome.message)] * len(chunk.ops)
    for position, (op, answer) in enumerate(zip(chunk.ops, answers, strict=True)):
        if answer is None:
            result = Result(
                op,
                ERROR,
                NO_RESULT,
                "Zoho's answer held no result for this record",
                {},
                http_status,
                attempts,
            )
        else:
            status = SUCCESS if answer.ok else ERROR
            result = Result(
                op, status, answer.code, answer.message, answer.details, http_status, attempts
            )
        yield chunk.indices[position], result
        for index in chunk.duplicates.get(position, ()):
            yield index, result
