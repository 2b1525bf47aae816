"""The one error model: every refusal is an ``ApiError`` with its code, mapped by one table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.errors import ApiError, ProblemCode, SettingsError
from api.http.problems import PROBLEM_TABLE, as_api_error
from api.province.access import AccessNotRecordedError
from api.province.audited import AdminInputError, AdminNotFoundError, AdminRefusedError
from api.province.clients import ClientConflictError, InvalidClientError, UnknownClientError
from api.province.governance import UnknownProposalError
from api.province.issuer_admin import (
    KeyIdTakenError,
    KeyNotCompromisedError,
    KeyStillActiveError,
    NoActiveKeyError,
    UnknownKeyError,
    UnknownWriterError,
)
from api.province.keyring import NoSigningKeyError
from api.province.operations import OperationRefusedError
from api.runtime import settings
from credentials.errors import AccessLogUnavailableError, InputRejectedError
from ledger.audit.citizen import CitizenAccessError
from ledger.audit.errors import AuditError, LogCorruptedError
from tests.helpers.server import Province, running_province

ID_NUMBER = "110101199003071234"


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Province]:
    with running_province(tmp_path) as served:
        yield served


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AdminRefusedError("refused"), ProblemCode.CONFLICT),
        (AdminInputError("/keyId", "a rule"), ProblemCode.VALIDATION_FAILED),
        (AdminNotFoundError("none"), ProblemCode.NOT_FOUND),
        (UnknownProposalError("none"), ProblemCode.NOT_FOUND),
        (UnknownKeyError("none"), ProblemCode.NOT_FOUND),
        (UnknownWriterError("none"), ProblemCode.NOT_FOUND),
        (OperationRefusedError("IssuerRegistryKeyBackdated"), ProblemCode.CHAIN_REFUSED),
        (KeyIdTakenError("taken"), ProblemCode.KEY_ID_TAKEN),
        (KeyNotCompromisedError("no"), ProblemCode.KEY_NOT_COMPROMISED),
        (KeyStillActiveError("still"), ProblemCode.KEY_STILL_ACTIVE),
        (NoActiveKeyError("none"), ProblemCode.NO_SIGNING_KEY),
        (NoSigningKeyError("none"), ProblemCode.NO_SIGNING_KEY),
        (InvalidClientError("name", "a rule"), ProblemCode.VALIDATION_FAILED),
        (UnknownClientError("none"), ProblemCode.NOT_FOUND),
        (ClientConflictError("taken"), ProblemCode.CONFLICT),
        (AccessNotRecordedError(), ProblemCode.ACCESS_LOG_UNAVAILABLE),
        (SettingsError("TONGBAN_X is unknown"), ProblemCode.INTERNAL_ERROR),
        (ApiError(code=ProblemCode.RATE_LIMITED), ProblemCode.RATE_LIMITED),
    ],
)
def test_every_refusal_of_the_api_is_an_api_error_with_its_code(
    error: ApiError, code: ProblemCode
) -> None:
    assert isinstance(error, ApiError)
    assert error.code is code
    assert as_api_error(error) is error
    assert error.detail


def test_the_settings_error_is_the_api_error_everyone_imports() -> None:
    assert settings.SettingsError is SettingsError


def test_field_rules_are_kept_apart_from_the_message() -> None:
    error = InvalidClientError("clientId", "must match a pattern")
    assert str(error) == "client clientId must match a pattern"  # the command line shows it
    assert error.detail == "the client's clientId breaks a rule"
    assert [tuple(f) for f in error.fields] == [("clientId", "must match a pattern")]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (CitizenAccessError("the signature does not verify"), ProblemCode.CITIZEN_ACCESS_REFUSED),
        (LogCorruptedError(f"leaf {ID_NUMBER}"), ProblemCode.LOG_CORRUPTED),
        (AuditError(f"commit of {ID_NUMBER}"), ProblemCode.INTERNAL_ERROR),
        (AccessLogUnavailableError("not recorded"), ProblemCode.ACCESS_LOG_UNAVAILABLE),
        (InputRejectedError("input_too_deep", "nested too deeply"), ProblemCode.TOO_DEEP),
    ],
)
def test_the_most_specific_class_of_the_table_wins(error: Exception, code: ProblemCode) -> None:
    problem = as_api_error(error)
    assert problem is not None
    assert problem.code is code
    assert ID_NUMBER not in problem.detail
    assert as_api_error(RuntimeError("no row")) is None
    assert all(issubclass(kind, Exception) for kind in PROBLEM_TABLE)


def test_an_api_error_raised_in_a_route_is_its_problem(province: Province) -> None:
    def no_key() -> None:
        raise NoSigningKeyError("no signing key of this province is registered and valid")

    def bad_field() -> None:
        raise AdminInputError("/expiresInSeconds", "must be between 1 s and 30 days")

    def misconfigured() -> None:
        raise SettingsError(f"cannot open /etc/tongban/{ID_NUMBER}.json")

    province.app.add_api_route("/test/no-key", no_key)
    province.app.add_api_route("/test/bad-field", bad_field)
    province.app.add_api_route("/test/misconfigured", misconfigured)

    reply = province.request("GET", "/test/no-key")
    assert reply.status == 503
    assert reply.json()["code"] == ProblemCode.NO_SIGNING_KEY.value
    assert reply.header("Retry-After") == "5"

    reply = province.request("GET", "/test/bad-field")
    assert reply.status == 422
    document = reply.json()
    assert document["detail"] == "the request breaks a field rule"
    assert document["errors"] == [
        {"field": "/expiresInSeconds", "rule": "must be between 1 s and 30 days"}
    ]

    # A SettingsError in a request is the server's fault: a bare 500 that shows nothing.
    reply = province.request("GET", "/test/misconfigured")
    assert reply.status == 500
    assert reply.json()["code"] == ProblemCode.INTERNAL_ERROR.value
    assert ID_NUMBER not in reply.text
    assert "/etc/tongban" not in reply.text
