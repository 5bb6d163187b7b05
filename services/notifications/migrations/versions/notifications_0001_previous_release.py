"""The schema of the previous release (create_all at 1a12c70)

Revision notifications_0001 of the notifications database, after nothing (the first); written 2026-12-02.
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "notifications_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "community",
        sa.Column("community_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("has_room", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("community_id"),
    )
    op.create_index(op.f("ix_community_area"), "community", ["area"], unique=False)
    op.create_table(
        "nudge",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=400), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("recipient_id", sa.String(length=120), nullable=False),
        sa.Column("referral_id", sa.String(length=100), nullable=True),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_nudge_recipient_created_at", "nudge", ["recipient_id", "created_at"], unique=False)
    op.create_index("ix_nudge_status_created_at", "nudge", ["status", "created_at"], unique=False)
    op.create_table(
        "preference",
        sa.Column("recipient_id", sa.String(length=120), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("opted_out", sa.JSON(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("daily_cap", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient_id"),
    )
    op.create_table(
        "recipient",
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("offers_accompaniment", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_referral_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("actor_id"),
    )
    op.create_index(op.f("ix_recipient_area"), "recipient", ["area"], unique=False)
    op.create_table(
        "referral",
        sa.Column("referral_id", sa.String(length=100), nullable=False),
        sa.Column("referrer_id", sa.String(length=100), nullable=False),
        sa.Column("community_id", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("needs_accompaniment", sa.Boolean(), nullable=False),
        sa.Column("special_considerations", sa.Boolean(), nullable=False),
        sa.Column("accompaniment_arranged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accompanied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("welcomed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(length=30), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("companion_id", sa.String(length=100), nullable=True),
        sa.Column("no_show_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("citizen_ref", sa.String(length=100), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index(op.f("ix_referral_citizen_ref"), "referral", ["citizen_ref"], unique=False)
    op.create_index(op.f("ix_referral_referrer_id"), "referral", ["referrer_id"], unique=False)
    op.create_table(
        "timer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("referral_id", sa.String(length=100), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_id", "rule", name="uq_timer_subject_rule"),
    )
    op.create_index("ix_timer_status_due_at", "timer", ["status", "due_at"], unique=False)
    op.create_table(
        "webhook",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_webhook_owner_id"), "webhook", ["owner_id"], unique=False)
    op.create_table(
        "delivery",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("nudge_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=1000), nullable=False),
        sa.Column("webhook_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["nudge_id"],
            ["nudge.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_delivery_nudge_id"), "delivery", ["nudge_id"], unique=False)
    op.create_index("ix_delivery_status_next_attempt_at", "delivery", ["status", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_delivery_webhook_id"), "delivery", ["webhook_id"], unique=False)


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_index(op.f("ix_delivery_webhook_id"), table_name="delivery")
    op.drop_index("ix_delivery_status_next_attempt_at", table_name="delivery")
    op.drop_index(op.f("ix_delivery_nudge_id"), table_name="delivery")
    op.drop_table("delivery")
    op.drop_index(op.f("ix_webhook_owner_id"), table_name="webhook")
    op.drop_table("webhook")
    op.drop_index("ix_timer_status_due_at", table_name="timer")
    op.drop_table("timer")
    op.drop_index(op.f("ix_referral_referrer_id"), table_name="referral")
    op.drop_index(op.f("ix_referral_citizen_ref"), table_name="referral")
    op.drop_table("referral")
    op.drop_index(op.f("ix_recipient_area"), table_name="recipient")
    op.drop_table("recipient")
    op.drop_table("preference")
    op.drop_index("ix_nudge_status_created_at", table_name="nudge")
    op.drop_index("ix_nudge_recipient_created_at", table_name="nudge")
    op.drop_table("nudge")
    op.drop_index(op.f("ix_community_area"), table_name="community")
    op.drop_table("community")
