"""Outbox rows set aside get a partial index (failed_at IS NOT NULL): readiness and metrics count them

Revision analytics_0003 of the analytics database, after analytics_0002; written 2026-12-02.
"""

from shared.migrations import outbox_set_aside_index, outbox_set_aside_index_undone

revision = "analytics_0003"
down_revision = "analytics_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_set_aside_index()


def downgrade() -> None:
    outbox_set_aside_index_undone()
