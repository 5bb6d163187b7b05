"""`make bench`: run every benchmark module in its own process (so peak memory is its own)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["backbone", "catalogue_search", "referrals_ingest", "analytics_scale"]


def main() -> int:
    found = sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
    names = [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]
    failed = []
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent).returncode != 0:
            failed.append(name)
    print(f"\nresults in {HERE / 'results'}")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
