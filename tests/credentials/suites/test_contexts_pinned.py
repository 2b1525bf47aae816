"""The contexts the RDFC suites expand with are byte-for-byte the copies SOURCE.md records.

For foreign RDFC proofs these files decide what a signature covers, so a changed byte must
fail here, not silently change verification results.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import pytest

from credentials.contexts import CONTEXT_FILES

SOURCE = resources.files("credentials").joinpath("contexts", "SOURCE.md").read_text("utf-8")
PINNED = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|.*SHA-256 `([0-9a-f]{64})`", SOURCE, re.M)


def test_every_foreign_suite_context_is_pinned() -> None:
    assert {url for _, url, _ in PINNED} >= {
        "https://www.w3.org/2018/credentials/v1",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://w3id.org/security/data-integrity/v2",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/suites/ed25519-2020/v1",
    }


@pytest.mark.parametrize(("filename", "url", "sha256"), PINNED, ids=[row[1] for row in PINNED])
def test_packaged_context_matches_its_recorded_sha256(filename: str, url: str, sha256: str) -> None:
    assert CONTEXT_FILES[url] == filename
    data = resources.files("credentials").joinpath("contexts", filename).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256
