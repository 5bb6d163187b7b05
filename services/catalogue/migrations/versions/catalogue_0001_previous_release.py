"""The schema of the previous release (create_all at 1a12c70)

Revision catalogue_0001 of the catalogue database, after nothing (the first); written 2026-12-02.
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "catalogue_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "catalogue_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "need",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_need_area"), "need", ["area"], unique=False)
    op.create_index(op.f("ix_need_category"), "need", ["category"], unique=False)
    op.create_table(
        "network_meeting",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("organizer_id", sa.String(length=64), nullable=False),
        sa.Column("organization_ids", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("hsds_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hsds_id"),
    )
    op.create_table(
        "referral_pressure",
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("community_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index(op.f("ix_referral_pressure_community_id"), "referral_pressure", ["community_id"], unique=False)
    op.create_table(
        "community",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("hsds_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("cost", sa.String(length=200), nullable=True),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("max_age", sa.Integer(), nullable=True),
        sa.Column("accessibility", sa.Text(), nullable=True),
        sa.Column("accepts_special_needs", sa.Boolean(), nullable=False),
        sa.Column("accompaniment_welcome", sa.Boolean(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("contact_public", sa.Boolean(), nullable=False),
        sa.Column("place_name", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("area", sa.String(length=100), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("capacity_total", sa.Integer(), nullable=True),
        sa.Column("capacity_available", sa.Integer(), nullable=True),
        sa.Column("capacity_status", sa.String(length=10), nullable=False),
        sa.Column("capacity_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hsds_id"),
    )
    op.create_index(op.f("ix_community_area"), "community", ["area"], unique=False)
    op.create_index(op.f("ix_community_organization_id"), "community", ["organization_id"], unique=False)
    op.create_index(op.f("ix_community_revision"), "community", ["revision"], unique=False)
    op.create_table(
        "schedule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("community_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("freq", sa.String(length=10), nullable=False),
        sa.Column("weekday", sa.String(length=3), nullable=False),
        sa.Column("week_of_month", sa.Integer(), nullable=True),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_schedule_community_id"), "schedule", ["community_id"], unique=False)


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_index(op.f("ix_schedule_community_id"), table_name="schedule")
    op.drop_table("schedule")
    op.drop_index(op.f("ix_community_revision"), table_name="community")
    op.drop_index(op.f("ix_community_organization_id"), table_name="community")
    op.drop_index(op.f("ix_community_area"), table_name="community")
    op.drop_table("community")
    op.drop_index(op.f("ix_referral_pressure_community_id"), table_name="referral_pressure")
    op.drop_table("referral_pressure")
    op.drop_table("organization")
    op.drop_table("network_meeting")
    op.drop_index(op.f("ix_need_category"), table_name="need")
    op.drop_index(op.f("ix_need_area"), table_name="need")
    op.drop_table("need")
    op.drop_table("catalogue_revision")
