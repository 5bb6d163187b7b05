"""Another municipality adopts Vejviser by writing a profile, not by editing code: no
municipality, region or programme name is written into the services outside the profile."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = re.compile(r"Ringsted|Sjælland|Fællesskabsby", re.IGNORECASE)
SOURCES = ("shared", "services", "vejviser")
PROFILE = ROOT / "shared" / "profile.py"  # the loader, which names its default file


def test_no_municipality_name_outside_the_profile() -> None:
    found = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in {".py", ".html", ".txt", ".json"} or path.parent.name == "data" or path == PROFILE:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if NAMES.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "put these in the municipality profile (shared/data/*.json):\n" + "\n".join(found)
