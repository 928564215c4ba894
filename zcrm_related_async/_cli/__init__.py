"""The ``zcrm-related`` command: jobs of any size from a JSONL or CSV file, resumable.

| module | what |
|---|---|
| ``main`` | arguments, credentials from the environment, exit codes |
| ``rows`` | the input's lines as rows, JSONL or CSV, and the errors that name a bad line |
| ``lines`` | the input file as operations, checked line by line and fingerprinted |
| ``plan`` | the calls a job will make (``--dry-run``), with the client's own batcher |
| ``journal`` | what each line came to, on disk, so a killed job resumes where it was |
| ``reportfile`` | the report: JSONL or CSV, one line per input line |
| ``progress`` | the progress bar, progress log lines and the summary table |
| ``job`` | one job: check the whole file, then stream it through the client |
| ``process`` | signal handlers, and a session that counts API calls |
"""

from .main import main

__all__ = ["main"]
