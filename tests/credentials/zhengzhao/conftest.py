"""The published vectors of tests/vectors/zhengzhao (see its PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "zhengzhao" / "vectors.json").read_text(
        encoding="utf-8"
    )
)
