"""The credentials package's one exception tree.

Messages name the rule that was broken and where (a field name, a JSON pointer of
the *format*, a limit), never a value taken from the input: credentials carry
personal data, and error bodies end up in logs. The API layer maps each class to
an RFC 9457 problem type through ``code``.

Verification never raises these for a bad credential: the verifier returns a
result with one reason code per check (``credentials.reasons``). These errors are
for callers that build, issue, derive or configure.

``nameable`` is the one rule for when an error (or a verification finding) may
name a member it refuses: member names are not personal data, but a key sent
in their place can be (an ID number, a person's name).
"""

from __future__ import annotations

import re

_MEMBER_NAME = re.compile(r"@?[A-Za-z_][A-Za-z0-9_.-]{0,63}", re.ASCII)
_DIGIT_RUN = re.compile(r"[0-9]{6}", re.ASCII)


def nameable(name: object) -> bool:
    """Whether an error may name the member called ``name`` (else it shows ``*``).

    Only what looks like a member name: ASCII letters, digits, ``_ . -``, starting
    with a letter or ``_`` (after an ``@``: JSON-LD keywords such as ``@context``),
    at most 64 characters, and no run of six digits (a key that is an ID or phone
    number). Such a name never needs RFC 6901 escaping.
    """
    return (
        isinstance(name, str)
        and bool(_MEMBER_NAME.fullmatch(name))
        and not (_DIGIT_RUN.search(name))
    )


class CredentialError(Exception):
    """Base of every error raised by ``credentials``."""

    code = "credential_error"


class InputRejectedError(CredentialError):
    """Input is not acceptable JSON: not I-JSON, over a size/depth/array cap, or malformed.

    ``reason`` is a stable reason code from ``credentials.reasons``.
    """

    code = "input_rejected"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with both arguments (errors cross the signing pool's process boundary)."""
        return (type(self), (self.reason, str(self)))


class SchemaViolationError(CredentialError):
    """Claims do not satisfy the template's JSON Schema; ``pointer`` names the place."""

    code = "schema_violation"

    def __init__(self, pointer: str, rule: str) -> None:
        super().__init__(f"{pointer or '/'}: {rule}")
        self.pointer = pointer
        self.rule = rule

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with both arguments (errors cross the signing pool's process boundary)."""
        return (type(self), (self.pointer, self.rule))


class NotConformingError(CredentialError):
    """A credential submitted for issuance breaks a VC Data Model rule or Tongban's profile.

    ``pointer`` names the member (in the credential, or ``/options/...``), ``rule``
    what is wrong; neither quotes a value.
    """

    code = "not_conforming"

    def __init__(self, pointer: str, rule: str) -> None:
        super().__init__(f"{pointer or '/'}: {rule}")
        self.pointer = pointer
        self.rule = rule

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with both arguments (errors cross the signing pool's process boundary)."""
        return (type(self), (self.pointer, self.rule))


class CredentialIdTakenError(CredentialError):
    """A credential id (``id`` or the VC API's ``credentialId``) names an issued credential."""

    code = "credential_id_taken"


class SchemaDefinitionError(CredentialError):
    """A packaged JSON Schema uses a keyword this validator does not implement."""

    code = "schema_definition"


class UnknownTemplateError(CredentialError):
    """No certificate template has that name or schema id."""

    code = "unknown_template"


class ConfigurationError(CredentialError):
    """Issuer or verifier configuration is inconsistent (wrong DID, key id, addresses)."""

    code = "configuration"


class DisclosureError(CredentialError):
    """A selective-disclosure request names a claim that cannot be disclosed or is absent."""

    code = "disclosure"


class UnknownCredentialError(CredentialError):
    """This issuer's store holds no credential with that digest."""

    code = "unknown_credential"


class AnchorPendingError(CredentialError):
    """The credential's batch is not anchored (final) yet: no anchor proof exists."""

    code = "anchor_pending"


class StatusTransitionError(CredentialError):
    """The requested revocation/suspension/reinstatement is not allowed from the current status."""

    code = "status_transition"


class AccessLogUnavailableError(CredentialError):
    """The access event of a verification could not be appended; no answer is given."""

    code = "access_log_unavailable"
