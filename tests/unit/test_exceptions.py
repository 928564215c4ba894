"""The exception tree drawn in ``_exceptions``' docstring."""

from __future__ import annotations

import pytest

from zcrm_related_async import (
    AuthError,
    ConfigurationError,
    CreditsExhaustedError,
    InvalidOperationError,
    OperationsFailedError,
    RefreshThrottledError,
    Report,
    TokenRefreshError,
    ZohoError,
)
from zcrm_related_async._wire import TransientRefreshError


@pytest.mark.parametrize(
    ("error", "bases"),
    [
        (InvalidOperationError, (ZohoError, ValueError)),
        (ConfigurationError, (ZohoError, ValueError)),
        (AuthError, (ZohoError,)),
        (TokenRefreshError, (AuthError, ZohoError)),
        (RefreshThrottledError, (TokenRefreshError, AuthError, ZohoError)),
        (TransientRefreshError, (TokenRefreshError, AuthError, ZohoError)),
        (CreditsExhaustedError, (ZohoError,)),
        (OperationsFailedError, (ZohoError,)),
    ],
)
def test_exception_tree(error: type[Exception], bases: tuple[type[Exception], ...]) -> None:
    for base in bases:
        assert issubclass(error, base)


@pytest.mark.parametrize(
    "error", [AuthError, TokenRefreshError, CreditsExhaustedError, OperationsFailedError]
)
def test_errors_that_are_not_bad_input_are_not_value_errors(error: type[Exception]) -> None:
    assert not issubclass(error, ValueError)


def test_refresh_throttled_is_not_transient() -> None:
    assert not issubclass(RefreshThrottledError, TransientRefreshError)
    assert not issubclass(TransientRefreshError, RefreshThrottledError)


@pytest.mark.parametrize("error", [CreditsExhaustedError, OperationsFailedError])
def test_job_stopping_errors_carry_the_report(error: type[CreditsExhaustedError]) -> None:
    report = Report([], calls=3)
    raised = error("stopped", report)
    assert raised.report is report
    assert str(raised) == "stopped"
