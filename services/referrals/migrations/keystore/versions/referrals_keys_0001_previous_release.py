"""The schema of the previous release (create_all at 1a12c70)

Revision referrals_keys_0001 of the referrals_keys database, after nothing (the first); written 2026-12-02.
"""

import sqlalchemy as sa
from alembic import op

revision = "referrals_keys_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_key",
        sa.Column("citizen_ref", sa.String(length=100), nullable=False),
        sa.Column("kek_id", sa.String(length=60), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("citizen_ref"),
    )
    op.create_index(op.f("ix_citizen_key_kek_id"), "citizen_key", ["kek_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_citizen_key_kek_id"), table_name="citizen_key")
    op.drop_table("citizen_key")
