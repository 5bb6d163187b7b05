"""The daily cap reads a tally of each recipient's e-mails and SMS per day, filled from today's deliveries

Revision notifications_0004 of the notifications database, after notifications_0003; written 2026-12-04.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import context, op

revision = "notifications_0004"
down_revision = "notifications_0003"
branch_labels = None
depends_on = None

# The day is a Copenhagen calendar day, as the service counts it (fixed here: a revision must
# keep doing what it did).
ZONE = ZoneInfo("Europe/Copenhagen")


def upgrade() -> None:
    tally = op.create_table(
        "personal_tally",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("recipient_id", sa.String(length=120), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "recipient_id"),
    )
    if context.is_offline_mode():
        return  # an empty database, migrated from SQL rendered once: no deliveries to count
    # Today's counts so far, as the service counted them before: the cap holds on the day of
    # the upgrade too.
    here = datetime.now(ZONE)
    since = here.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    nudge = sa.table("nudge", sa.column("id"), sa.column("recipient_id"), sa.column("created_at", sa.DateTime(True)))
    delivery = sa.table(
        "delivery",
        sa.column("nudge_id"),
        sa.column("channel"),
        sa.column("created_at", sa.DateTime(True)),
    )
    counted = (
        sa.select(nudge.c.recipient_id, sa.func.count())
        .select_from(delivery.join(nudge, nudge.c.id == delivery.c.nudge_id))
        .where(
            nudge.c.created_at >= since,
            delivery.c.channel.in_(("email", "sms")),
            delivery.c.created_at >= since,
        )
        .group_by(nudge.c.recipient_id)
    )
    rows = [
        {"day": here.date(), "recipient_id": recipient, "deliveries": int(count)}
        for recipient, count in op.get_bind().execute(counted)
    ]
    if rows:
        op.bulk_insert(tally, rows)


def downgrade() -> None:
    op.drop_table("personal_tally")
