"""Child processes that cannot outlive the process that started them (Linux).

``die_with_parent(signum)`` asks the kernel (``prctl(PR_SET_PDEATHSIG)``) to send
``signum`` to the calling process when its parent ends, however the parent
ends, ``kill -9`` included. Chain nodes call it between fork and exec; the
service's HTTP workers call it first thing.
"""

from __future__ import annotations

import ctypes
import signal

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Have the kernel send ``signum`` to this process when its parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
