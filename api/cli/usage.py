"""Usage errors of the command line as one line each, never echoing what the user typed.

The pinned typer parses with its own copy of click, whose exceptions
(``typer._click.exceptions``) derive from the public ``typer.TyperException``
and not from ``click.ClickException``: an entry point that catches only
click's would let them escape as tracebacks. ``usage_line`` turns each into
one sentence naming the option or argument and the rule it broke. A value
the user typed may be personal data (an ID number given by mistake), so no
token of the command line other than option and command names appears in
it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["USAGE_EXIT_STATUS", "usage_line"]

USAGE_EXIT_STATUS = 2
"""Exit status of a command that was called wrongly (as click and docs/cli.md say)."""

_REDACTED = "the value given"
_NOT_ONE_OF = re.compile(r"is not one of (.+)$")


def _is_argument(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _param_name(param: Any) -> str:
    if _is_argument(param):
        return str(getattr(param, "name", None) or "argument").upper()
    opts = getattr(param, "opts", None) or []
    return str(max(opts, key=len)) if opts else "an option"


def _choices(param: Any, message: str) -> str | None:
    choices = getattr(getattr(param, "type", None), "choices", None)
    if choices:
        return ", ".join(str(getattr(choice, "value", choice)) for choice in choices)
    # typer's enum coercion names the choices in its message, after the rejected value.
    listed = _NOT_ONE_OF.search(message)
    return listed.group(1).replace("'", "").rstrip(".") if listed else None


def _redact(message: str, argv: Sequence[str]) -> str:
    """``message`` with every command-line token that is not an option name replaced."""
    for token in sorted({t for t in argv if t and not t.startswith("-")}, key=len, reverse=True):
        message = message.replace(token, _REDACTED)
    return message


def _class_name(exc: BaseException) -> str:
    return type(exc).__name__


def usage_line(exc: Exception, argv: Sequence[str]) -> str:
    """One line for a usage error raised while parsing ``argv`` (without the program name)."""
    kind = _class_name(exc)
    param = getattr(exc, "param", None)
    if kind == "NoSuchOption":
        option = str(getattr(exc, "option_name", "")) or "that option"
        possibilities = list(getattr(exc, "possibilities", None) or [])
        hint = f" (did you mean {', '.join(sorted(possibilities))}?)" if possibilities else ""
        return f"no such option {option}{hint}"
    if kind == "MissingParameter":
        what = "argument" if _is_argument(param) else "option"
        return f"missing {what} {_param_name(param)}" if param is not None else "missing argument"
    if kind == "BadOptionUsage":
        option = str(getattr(exc, "option_name", "")) or "an option"
        return f"option {option} needs a value"
    if kind == "BadParameter" and param is not None:
        reason = str(getattr(exc, "message", "")).removeprefix("Value error, ")
        choices = _choices(param, reason)
        if choices:
            return f"invalid value for {_param_name(param)}: use one of {choices}"
        reason = reason.replace("Input should be", "must be")
        return f"invalid value for {_param_name(param)}: {_redact(reason, argv)}"
    named = getattr(exc, "param_hint", None)
    if kind == "BadParameter" and isinstance(named, str) and named:
        # Raised by a command after parsing: it names the parameter, not a click object.
        reason = _redact(str(getattr(exc, "message", "")), argv)
        return f"invalid value for {named}: {reason}"
    if kind == "UsageError" and "No such command" in str(getattr(exc, "message", "")):
        return "no such command (see tongban --help)"
    message = str(getattr(exc, "message", "")) or kind
    return _redact(message[:1].lower() + message[1:], argv)
