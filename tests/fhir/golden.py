"""Snapshot helper for record items: compare with tests/data/fhir/golden/<name>.json.

Regenerate deliberately with ``REGIE_UPDATE_GOLDEN=1 pytest tests/fhir`` and review the
diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "data" / "fhir" / "golden"


def check_golden(name: str, data: Any) -> None:
    path = GOLDEN_DIR / f"{name}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("REGIE_UPDATE_GOLDEN") == "1":
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing snapshot {path.name}; run with REGIE_UPDATE_GOLDEN=1"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert json.loads(text) == expected, f"snapshot {path.name} differs"
