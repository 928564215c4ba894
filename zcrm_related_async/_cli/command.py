"""What the ``run`` and ``sync`` commands' jobs share: their output, a graceful stop on signals
(then an abort), usage errors (exit code 2), a client whose session counts the API calls made,
and the words a job ends with."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, TextIO

import aiohttp

from .._client import AsyncClient
from .._exceptions import ConfigurationError
from .._report import API_CREDITS_EXHAUSTED
from .process import GracefulStop, counting_session, signals_call
from .progress import Tally

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C)
EXIT_TERMINATED = 143  # SIGTERM (a deploy, a scheduler stopping the job)


class UsageError(Exception):
    """The command cannot run as asked (exit code 2); the message says why."""


class Command:
    """One job of a command: :meth:`run` it for the exit code; subclasses give ``_run``."""

    def __init__(self, out: TextIO, err: TextIO, grace: float) -> None:
        self.out = out
        self.err = err
        self.grace = grace
        #: API calls made (each spends one of the org's credits)
        self.calls = 0
        #: a signal asked to stop: start nothing new
        self.interrupted = False
        self._stopper: GracefulStop | None = None
        #: the task doing the job's calls, cancelled by an abort
        self._working: asyncio.Task[None] | None = None

    def interrupt(self) -> None:
        """Start nothing new; the calls under way finish (see ``process.GracefulStop``)."""
        self.interrupted = True

    def abort(self) -> None:
        """Stop at once: the calls under way are abandoned (the next run makes them again)."""
        self.interrupt()
        if self._working is not None:
            self._working.cancel()

    @property
    def exit_interrupted(self) -> int:
        return self._stopper.exit_code if self._stopper is not None else EXIT_INTERRUPTED

    def say(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._stopper = GracefulStop(loop, self.grace, self.interrupt, self.abort)
        with signals_call(loop, self._stopper):
            try:
                return await self._run()
            except UsageError as error:
                self.say(f"zcrm-related: {error}")
                return EXIT_USAGE
            finally:
                self._stopper.cancel_timer()
                self._close()

    async def _run(self) -> int:
        raise NotImplementedError

    def _close(self) -> None:
        """Close what the job wrote to (at its end, whatever ended it)."""

    async def _client(
        self, arguments: Mapping[str, Any]
    ) -> tuple[AsyncClient, aiohttp.ClientSession]:
        """The job's client (``arguments``: :class:`AsyncClient`'s), on a session counting
        its calls; bad arguments are a usage error."""
        session = counting_session(int(arguments.get("max_concurrency", 10)), self._count)
        try:
            return AsyncClient(**arguments, session=session), session
        except ConfigurationError as error:
            await session.close()
            raise UsageError(str(error)) from None

    def _count(self) -> None:
        self.calls += 1

    def _ending(self, tally: Tally, not_final: str | None, journal: bool, finished: bool) -> int:
        """Say what the job's end asks of the user; return the exit code (``not_final``:
        what to say of outcomes that are not final, if there are any)."""
        if tally.codes[API_CREDITS_EXHAUSTED]:
            self.say("the org's API credits for the day are spent: run the same command again")
        if not_final and journal and finished:
            self.say(not_final)
        if not finished:
            again = "run the same command to go on" if journal else "no --journal given"
            self.say(f"zcrm-related: interrupted; {again}")
            return self.exit_interrupted
        return EXIT_FAILED if tally.failed else EXIT_OK
