"""Strict ``multipart/form-data`` bodies (RFC 7578), read with python-multipart under caps.

A route names the parts it takes and each part's cap (``FormParts``); the body is
read as it streams, through python-multipart's ``MultipartParser`` (the parser
Starlette and FastAPI use), and refused as soon as it breaks a rule:

- ``Content-Type`` other than ``multipart/form-data`` with a boundary: 415;
- ``Content-Length`` above the body cap, more bytes than it, or a part above its
  own cap: 413 ``body-too-large`` (naming the part);
- a part without ``Content-Disposition: form-data; name=...``, a part the route
  does not take, a part given twice, a part missing, or a body that is not
  multipart at all or ends before its closing boundary: 400 ``bad-request``.

Nothing of a part's content is ever quoted in a problem or logged (the parser's
own warnings, which quote a byte of a malformed body, go to a silenced logger):
problems name the part (when its name is one the route takes) and the rule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from api.errors import ProblemCode
from api.http.problems import FieldIssue, Problem

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["FORM_DATA", "FormParts", "UploadedPart", "read_form"]

FORM_DATA = "multipart/form-data"
"""The media type of the bodies read here."""

_MAX_HEADERS = 4
_MAX_HEADER_BYTES = 1024
# The parser logs the offending byte of a malformed body; a part's bytes stay out of
# every log, so its logger is one no record passes (the problem names the rule).
_SILENT = logging.Logger("python_multipart.silenced", logging.CRITICAL + 1)


@dataclass(frozen=True)
class FormParts:
    """The parts a route takes, by name, each with its cap in bytes, and the body's cap."""

    caps: Mapping[str, int]
    body_cap: int


@dataclass
class UploadedPart:
    """One part as received: its name, declared media type and filename, and its bytes."""

    name: str
    content_type: str | None = None
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray, repr=False)


def _bad(rule: str, part: str | None = None) -> Problem:
    issues = [FieldIssue(field=part, rule=rule)] if part is not None else None
    return Problem(
        ProblemCode.BAD_REQUEST, f"not an acceptable {FORM_DATA} body: {rule}", errors=issues
    )


def _boundary(request: Request) -> bytes:
    value = request.headers.get("content-type")
    media, options = parse_options_header(value)
    boundary = options.get(b"boundary")
    if media.lower() != FORM_DATA.encode() or not boundary:
        raise Problem(
            ProblemCode.UNSUPPORTED_MEDIA_TYPE,
            f"the body must be {FORM_DATA} with a boundary",
        )
    return boundary


class _Collector:
    """The parser's callbacks: the parts so far, refused as soon as a rule breaks."""

    def __init__(self, wanted: FormParts) -> None:
        self.wanted = wanted
        self.parts: dict[str, UploadedPart] = {}
        self.ended = False
        self._headers: dict[bytes, bytes] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._current: UploadedPart | None = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._current = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._field).lower()] = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition"))
        raw_name = options.get(b"name")
        if disposition.lower() != b"form-data" or raw_name is None:
            raise _bad("each part needs Content-Disposition: form-data; name=...")
        name = raw_name.decode("utf-8", "replace")
        if name not in self.wanted.caps:
            taken = ", ".join(sorted(self.wanted.caps))
            raise _bad(f"a part is not one of the route's ({taken})")
        if name in self.parts:
            raise _bad("the part is given twice", name)
        media = self._headers.get(b"content-type")
        filename = options.get(b"filename")
        self._current = UploadedPart(
            name,
            None if media is None else media.decode("latin-1").strip(),
            None if filename is None else filename.decode("utf-8", "replace"),
        )
        self.parts[name] = self._current

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current
        if part is None:
            raise _bad("part data before the part's headers")
        part.data += data[start:end]
        cap = self.wanted.caps[part.name]
        if len(part.data) > cap:
            raise Problem(
                ProblemCode.BODY_TOO_LARGE,
                f"the part is larger than {cap} bytes",
                errors=[FieldIssue(field=part.name, rule=f"at most {cap} bytes")],
            )

    def _end(self) -> None:
        self.ended = True


def _too_large(cap: int) -> Problem:
    return Problem(ProblemCode.BODY_TOO_LARGE, f"the body is larger than {cap} bytes")


async def read_form(request: Request, wanted: FormParts) -> dict[str, UploadedPart]:
    """Every part ``wanted`` names, read from ``request``'s body under the caps.

    Raises ``Problem`` (400, 413, 415) as the module docstring says.
    """
    boundary = _boundary(request)
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(ProblemCode.BAD_REQUEST, "Content-Length is not a number")
        if int(declared) > wanted.body_cap:
            raise _too_large(wanted.body_cap)
    collector = _Collector(wanted)
    try:
        parser = MultipartParser(
            boundary,
            collector.callbacks(),
            max_header_count=_MAX_HEADERS,
            max_header_size=_MAX_HEADER_BYTES,
        )
    except ValueError:
        raise _bad("the boundary is not acceptable") from None
    parser.logger = _SILENT
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > wanted.body_cap:
                raise _too_large(wanted.body_cap)
            if not collector.ended:
                parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        raise _bad("the body is not well-formed multipart") from None
    if not collector.ended:
        raise _bad("the body ends before its closing boundary")
    missing = sorted(set(wanted.caps) - set(collector.parts))
    if missing:
        raise _bad("the part is missing", missing[0])
    return collector.parts
