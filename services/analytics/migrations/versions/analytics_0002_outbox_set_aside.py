"""Outbox rows can be set aside (failed_at, failure); the relay's unsent index leaves them out

Revision analytics_0002 of the analytics database, after analytics_0001; written 2026-12-02.
"""

from shared.migrations import outbox_set_aside, outbox_set_aside_undone

revision = "analytics_0002"
down_revision = "analytics_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_set_aside()


def downgrade() -> None:
    outbox_set_aside_undone()
