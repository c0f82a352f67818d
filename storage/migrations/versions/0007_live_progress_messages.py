"""live progress messages: an outbox row's message id, revision and priority, a broadcast's last live count

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("claimed_revision", sa.Integer(), nullable=True))
        batch_op.drop_index("ix_outbox_ready")
        batch_op.create_index("ix_outbox_ready", ["bot_id", "channel", "status", "priority", "not_before"],
                              unique=False)
    op.execute("UPDATE outbox SET priority = 1 WHERE kind IN ('broadcast', 'reminder')")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress_done", sa.Integer(), server_default="-1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("progress_done")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_ready")
        batch_op.create_index("ix_outbox_ready", ["bot_id", "channel", "status", "not_before"], unique=False)
        batch_op.drop_column("claimed_revision")
        batch_op.drop_column("revision")
        batch_op.drop_column("priority")
        batch_op.drop_column("message_id")
