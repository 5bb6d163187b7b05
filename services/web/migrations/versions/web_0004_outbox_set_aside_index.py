"""Outbox rows set aside get a partial index (failed_at IS NOT NULL): readiness and metrics count them

Revision web_0004 of the web database, after web_0003; written 2026-12-02.
"""

from shared.migrations import outbox_set_aside_index, outbox_set_aside_index_undone

revision = "web_0004"
down_revision = "web_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_set_aside_index()


def downgrade() -> None:
    outbox_set_aside_index_undone()
