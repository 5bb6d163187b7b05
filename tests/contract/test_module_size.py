"""No module in services/ is over 300 lines: past that a module holds more than one job, so
it is split by meaning into siblings. (No migration under services/*/migrations/versions/ is
near the limit, so none is exempt.)"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 300


def test_no_module_in_services_is_over_300_lines() -> None:
    too_long = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert too_long == [], f"split these by meaning into modules of at most {MAX_LINES} lines:\n" + "\n".join(too_long)
