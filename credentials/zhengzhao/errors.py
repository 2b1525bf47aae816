"""The one error of ``credentials.zhengzhao``: an identifier that is not well formed.

It names the field and, where it helps, the 1-based position of the offending
character, never the value: identifiers arrive next to personal data and error
bodies end up in logs.
"""

from __future__ import annotations

from credentials.errors import CredentialError


class IdentifierError(CredentialError):
    """An identifier (证照标识, 统一社会信用代码, division code) is malformed.

    ``field`` is the English name of the part that is wrong (``typeCode``,
    ``checkCharacter``...), ``reason`` a stable short code (``length``,
    ``character``, ``check_character``, ``structure``, ``type``, ``value``)
    and ``position`` the 1-based character position inside that field, when one
    character is to blame.
    """

    code = "identifier_invalid"

    def __init__(self, field: str, reason: str, message: str, position: int | None = None) -> None:
        where = f"{field} (position {position})" if position is not None else field
        super().__init__(f"{where}: {message}")
        self.field = field
        self.reason = reason
        self.position = position

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with every argument (errors may cross a process boundary)."""
        message = str(self).split(": ", 1)[1]
        return (type(self), (self.field, self.reason, message, self.position))
