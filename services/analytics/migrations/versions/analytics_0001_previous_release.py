"""The schema of the previous release (create_all at 1a12c70)

Revision analytics_0001 of the analytics database, after nothing (the first); written 2026-12-02.
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "analytics_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "an_actor",
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("activated_us", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("sector", sa.String(length=100), nullable=True),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("activated_by", sa.String(length=100), nullable=True),
        sa.Column("citizen_ref", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("actor_id"),
    )
    op.create_table(
        "an_bridge",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("citizen_ref", sa.String(length=100), nullable=False),
        sa.Column("from_community_id", sa.String(length=100), nullable=False),
        sa.Column("to_referral_id", sa.String(length=100), nullable=False),
        sa.Column("time_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "an_capacity",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("community_id", sa.String(length=100), nullable=False),
        sa.Column("time_us", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "an_citizen",
        sa.Column("citizen_ref", sa.String(length=100), nullable=False),
        sa.Column("registered_us", sa.BigInteger(), nullable=True),
        sa.Column("citizen_key", sa.BigInteger(), nullable=True),
        sa.Column("age_band", sa.String(length=20), nullable=True),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("target_groups", sa.Text(), nullable=True),
        sa.Column("erased_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("citizen_ref"),
    )
    op.create_table(
        "an_community",
        sa.Column("community_id", sa.String(length=100), nullable=False),
        sa.Column("area_us", sa.BigInteger(), nullable=True),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("kind_us", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("name_us", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("community_id"),
    )
    op.create_table(
        "an_need",
        sa.Column("need_id", sa.String(length=100), nullable=False),
        sa.Column("time_us", sa.BigInteger(), nullable=True),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("need_id"),
    )
    op.create_table(
        "an_nudge",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("time_us", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "an_outreach",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("time_us", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "an_readiness",
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("aware_us", sa.BigInteger(), nullable=True),
        sa.Column("trained_us", sa.BigInteger(), nullable=True),
        sa.Column("referring_us", sa.BigInteger(), nullable=True),
        sa.Column("accompanying_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("actor_id"),
    )
    op.create_table(
        "an_referral",
        sa.Column("referral_id", sa.String(length=100), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=True),
        sa.Column("citizen_ref", sa.String(length=100), nullable=True),
        sa.Column("citizen_key", sa.BigInteger(), nullable=True),
        sa.Column("community_id", sa.String(length=100), nullable=True),
        sa.Column("referrer_id", sa.String(length=100), nullable=True),
        sa.Column("needs_accompaniment", sa.Boolean(), nullable=True),
        sa.Column("accepted_us", sa.BigInteger(), nullable=True),
        sa.Column("arranged_us", sa.BigInteger(), nullable=True),
        sa.Column("accompanied_us", sa.BigInteger(), nullable=True),
        sa.Column("welcomed_us", sa.BigInteger(), nullable=True),
        sa.Column("welcome_community_id", sa.String(length=100), nullable=True),
        sa.Column("rejected_us", sa.BigInteger(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=30), nullable=True),
        sa.Column("cancelled_us", sa.BigInteger(), nullable=True),
        sa.Column("participating_4w_us", sa.BigInteger(), nullable=True),
        sa.Column("participating_12w_us", sa.BigInteger(), nullable=True),
        sa.Column("no_show_us", sa.BigInteger(), nullable=True),
        sa.Column("loneliness_referral_us", sa.BigInteger(), nullable=True),
        sa.Column("loneliness_referral", sa.Integer(), nullable=True),
        sa.Column("loneliness_week_12_us", sa.BigInteger(), nullable=True),
        sa.Column("loneliness_week_12", sa.Integer(), nullable=True),
        sa.Column("citizen_erased_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index(op.f("ix_an_referral_citizen_key"), "an_referral", ["citizen_key"], unique=False)
    op.create_table(
        "an_snapshot",
        sa.Column("snapshot_id", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id"),
    )
    op.create_index(op.f("ix_an_snapshot_computed_at"), "an_snapshot", ["computed_at"], unique=False)


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_index(op.f("ix_an_snapshot_computed_at"), table_name="an_snapshot")
    op.drop_table("an_snapshot")
    op.drop_index(op.f("ix_an_referral_citizen_key"), table_name="an_referral")
    op.drop_table("an_referral")
    op.drop_table("an_readiness")
    op.drop_table("an_outreach")
    op.drop_table("an_nudge")
    op.drop_table("an_need")
    op.drop_table("an_community")
    op.drop_table("an_citizen")
    op.drop_table("an_capacity")
    op.drop_table("an_bridge")
    op.drop_table("an_actor")
