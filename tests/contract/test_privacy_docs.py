"""The privacy documents in docs/privacy/ are what the generator makes from the code's own
lists today: a new column, purpose, subscription or setting shows up in them, or this fails."""

from __future__ import annotations

from pathlib import Path

from vejviser.privacy_docs import documents

REPO = Path(__file__).resolve().parents[2]


def test_the_privacy_documents_are_current() -> None:
    for filename, text in documents().items():
        path = REPO / "docs" / filename
        assert path.exists(), f"docs/{filename} is missing: run `make docs`"
        assert path.read_text() == text, f"docs/{filename} is stale: run `make docs`"


def test_the_record_names_every_special_category_and_the_retention_in_force() -> None:
    from shared.privacy_register import CATEGORIES
    from shared.profile import profile
    from vejviser.privacy_docs import ROPA

    record = documents()[ROPA]
    assert profile().municipality in record
    rows = {line.split(" | ")[0].strip("| "): line for line in record.splitlines() if line.startswith("| ")}
    for category in CATEGORIES.values():
        if category.personal:
            assert ("| yes |" in rows[category.name]) == category.special, category.name
    assert f"{profile().retention_months_after_end} months after the citizen's last referral ended" in record
