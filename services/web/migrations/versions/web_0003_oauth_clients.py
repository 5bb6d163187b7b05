"""oauth clients

Revision web_0003 of the web database, after web_0002; written 2026-12-02.
"""

import sqlalchemy as sa
from alembic import op

revision = "web_0003"
down_revision = "web_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_oauth_client",
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=300), nullable=False),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("client_id"),
    )


def downgrade() -> None:
    op.drop_table("web_oauth_client")
