"""The schema of the previous release (create_all at 1a12c70)

Revision web_0001 of the web database, after nothing (the first); written 2026-12-02.
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "web_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "web_draft",
        sa.Column("draft_id", sa.String(length=100), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("contact_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("draft_id"),
    )
    op.create_index(op.f("ix_web_draft_session_hash"), "web_draft", ["session_hash"], unique=False)
    op.create_index(op.f("ix_web_draft_updated_at"), "web_draft", ["updated_at"], unique=False)
    op.create_table(
        "web_login_attempt",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state"),
    )
    op.create_index(op.f("ix_web_login_attempt_created_at"), "web_login_attempt", ["created_at"], unique=False)
    op.create_table(
        "web_login_link",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("communities", sa.JSON(), nullable=False),
        sa.Column("next_path", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_web_login_link_expires_at"), "web_login_link", ["expires_at"], unique=False)
    op.create_table(
        "web_login_mail_ask",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_web_login_mail_ask_created_at"), "web_login_mail_ask", ["created_at"], unique=False)
    op.create_index(op.f("ix_web_login_mail_ask_key"), "web_login_mail_ask", ["key"], unique=False)
    op.create_index(op.f("ix_web_login_mail_ask_token_hash"), "web_login_mail_ask", ["token_hash"], unique=False)
    op.create_table(
        "web_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("communities", sa.JSON(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index(op.f("ix_web_session_actor_id"), "web_session", ["actor_id"], unique=False)


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_index(op.f("ix_web_session_actor_id"), table_name="web_session")
    op.drop_table("web_session")
    op.drop_index(op.f("ix_web_login_mail_ask_token_hash"), table_name="web_login_mail_ask")
    op.drop_index(op.f("ix_web_login_mail_ask_key"), table_name="web_login_mail_ask")
    op.drop_index(op.f("ix_web_login_mail_ask_created_at"), table_name="web_login_mail_ask")
    op.drop_table("web_login_mail_ask")
    op.drop_index(op.f("ix_web_login_link_expires_at"), table_name="web_login_link")
    op.drop_table("web_login_link")
    op.drop_index(op.f("ix_web_login_attempt_created_at"), table_name="web_login_attempt")
    op.drop_table("web_login_attempt")
    op.drop_index(op.f("ix_web_draft_updated_at"), table_name="web_draft")
    op.drop_index(op.f("ix_web_draft_session_hash"), table_name="web_draft")
    op.drop_table("web_draft")
