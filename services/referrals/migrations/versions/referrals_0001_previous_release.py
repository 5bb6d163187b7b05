"""The schema of the previous release (create_all at 1a12c70)

Revision referrals_0001 of the referrals database, after nothing (the first); written 2026-12-02.
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "referrals_0001"
down_revision = None
branch_labels = None
depends_on = None

# The audit log's append-only triggers as services/referrals/audit.py installed them with the
# table (`after_create`, which `op.create_table` does not fire): written out here, because a
# revision keeps doing what it did whatever the model's code says later.
REFUSED = "audit_log is append-only: entries are never changed or deleted"
AUDIT_LOG_TRIGGERS = {
    "sqlite": (
        f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END",
        f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION USING MESSAGE = '{REFUSED} (' || TG_OP || ' refused)'; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ),
}


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "accompaniment_decline",
        sa.Column("referral_id", sa.String(length=100), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", "actor_id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("service", sa.String(length=30), nullable=False),
        sa.Column("client", sa.String(length=40), nullable=True),
        sa.Column("citizen_ref", sa.String(length=100), nullable=False),
        sa.Column("referral_id", sa.String(length=100), nullable=True),
        sa.Column("what", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_log_actor_id"), "audit_log", ["actor_id"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index("ix_audit_log_citizen_at", "audit_log", ["citizen_ref", "at"], unique=False)
    op.create_index(op.f("ix_audit_log_purpose"), "audit_log", ["purpose"], unique=False)
    for statement in AUDIT_LOG_TRIGGERS.get(op.get_context().dialect.name, ()):
        op.execute(statement)
    op.create_table(
        "bridge",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("citizen_ref", sa.String(length=100), nullable=False),
        sa.Column("from_community_id", sa.String(length=100), nullable=False),
        sa.Column("to_referral_id", sa.String(length=100), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
        sa.UniqueConstraint("to_referral_id"),
    )
    op.create_index(op.f("ix_bridge_citizen_ref"), "bridge", ["citizen_ref"], unique=False)
    op.create_table(
        "citizen",
        sa.Column("citizen_ref", sa.String(length=100), nullable=False),
        sa.Column("contact_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("attributes_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("consent_purpose_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("registered_by", sa.String(length=200), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("citizen_ref"),
    )
    op.create_table(
        "community",
        sa.Column("community_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("accepts_special_needs", sa.Boolean(), nullable=False),
        sa.Column("capacity_status", sa.String(length=20), nullable=False),
        sa.Column("capacity_available", sa.Integer(), nullable=True),
        sa.Column("capacity_total", sa.Integer(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("community_id"),
    )
    op.create_table(
        "loneliness",
        sa.Column("referral_id", sa.String(length=100), nullable=False),
        sa.Column("moment", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", "moment"),
    )
    op.create_table(
        "outreach",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(op.f("ix_outreach_actor_id"), "outreach", ["actor_id"], unique=False)
    op.create_table(
        "referrer",
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("sector", sa.String(length=40), nullable=True),
        sa.Column("organization", sa.String(length=200), nullable=True),
        sa.Column("area", sa.String(length=200), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("offers_accompaniment", sa.Boolean(), nullable=False),
        sa.Column("contact_email", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=50), nullable=True),
        sa.Column("activated_by", sa.String(length=100), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("citizen_ref", sa.String(length=100), nullable=True),
        sa.Column("readiness", sa.String(length=20), nullable=True),
        sa.Column("readiness_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("actor_id"),
    )
    op.create_index(op.f("ix_referrer_activated_by"), "referrer", ["activated_by"], unique=False)
    op.create_index(op.f("ix_referrer_role"), "referrer", ["role"], unique=False)
    op.create_table(
        "timeline",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(op.f("ix_timeline_referral_id"), "timeline", ["referral_id"], unique=False)
    op.create_table(
        "training",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("trained_on", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(op.f("ix_training_actor_id"), "training", ["actor_id"], unique=False)
    op.create_table(
        "referral",
        sa.Column("referral_id", sa.String(length=100), nullable=False),
        sa.Column("citizen_ref", sa.String(length=100), nullable=False),
        sa.Column("community_id", sa.String(length=100), nullable=False),
        sa.Column("referrer_id", sa.String(length=100), nullable=False),
        sa.Column("needs_accompaniment", sa.Boolean(), nullable=False),
        sa.Column("special_considerations", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("note_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("share_note", sa.Boolean(), nullable=False),
        sa.Column("override_full", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("companion_id", sa.String(length=100), nullable=True),
        sa.Column("rejection_reason", sa.String(length=20), nullable=True),
        sa.Column("participation", sa.JSON(), nullable=False),
        sa.Column("last_follow_up", sa.Integer(), nullable=True),
        sa.Column("share_contact", sa.Boolean(), nullable=False),
        sa.Column("visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arranged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("welcomed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_ref"],
            ["citizen.citizen_ref"],
        ),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index(op.f("ix_referral_citizen_ref"), "referral", ["citizen_ref"], unique=False)
    op.create_index(op.f("ix_referral_community_id"), "referral", ["community_id"], unique=False)
    op.create_index(op.f("ix_referral_companion_id"), "referral", ["companion_id"], unique=False)
    op.create_index(op.f("ix_referral_created_at"), "referral", ["created_at"], unique=False)
    op.create_index(op.f("ix_referral_referrer_id"), "referral", ["referrer_id"], unique=False)
    op.create_index(op.f("ix_referral_status"), "referral", ["status"], unique=False)
    op.create_index(op.f("ix_referral_welcomed_at"), "referral", ["welcomed_at"], unique=False)


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_index(op.f("ix_referral_welcomed_at"), table_name="referral")
    op.drop_index(op.f("ix_referral_status"), table_name="referral")
    op.drop_index(op.f("ix_referral_referrer_id"), table_name="referral")
    op.drop_index(op.f("ix_referral_created_at"), table_name="referral")
    op.drop_index(op.f("ix_referral_companion_id"), table_name="referral")
    op.drop_index(op.f("ix_referral_community_id"), table_name="referral")
    op.drop_index(op.f("ix_referral_citizen_ref"), table_name="referral")
    op.drop_table("referral")
    op.drop_index(op.f("ix_training_actor_id"), table_name="training")
    op.drop_table("training")
    op.drop_index(op.f("ix_timeline_referral_id"), table_name="timeline")
    op.drop_table("timeline")
    op.drop_index(op.f("ix_referrer_role"), table_name="referrer")
    op.drop_index(op.f("ix_referrer_activated_by"), table_name="referrer")
    op.drop_table("referrer")
    op.drop_index(op.f("ix_outreach_actor_id"), table_name="outreach")
    op.drop_table("outreach")
    op.drop_table("loneliness")
    op.drop_table("community")
    op.drop_table("citizen")
    op.drop_index(op.f("ix_bridge_citizen_ref"), table_name="bridge")
    op.drop_table("bridge")
    op.drop_index(op.f("ix_audit_log_purpose"), table_name="audit_log")
    op.drop_index("ix_audit_log_citizen_at", table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor_id"), table_name="audit_log")
    op.drop_table("audit_log")
    if op.get_context().dialect.name == "postgresql":  # SQLite's triggers went with their table
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("accompaniment_decline")
