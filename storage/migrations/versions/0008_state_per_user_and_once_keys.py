"""conversation state per user with a version; one hardship request per form, one broadcast per draft

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The states stored so far were keyed by chat; every one of them belongs to a private chat's user, whose
    # id is the chat's id on every channel (Telegram, Zalo, the console), so they keep working.
    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=128), server_default="", nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE conversation_states SET user_id = chat_id, version = 1")
    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.drop_constraint("pk_conversation_states", type_="primary")
        batch_op.create_primary_key("pk_conversation_states", ["bot_id", "channel", "chat_id", "user_id"])
    # A member's chat is their private chat, whose id is their user id: a group stored by a link made in a
    # group (before groups were refused) is replaced by the member's own chat, so nothing personal goes there.
    op.execute("UPDATE chat_accounts SET chat_id = user_id WHERE chat_id <> user_id")
    with op.batch_alter_table("hardship_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_hardship_requests_form_id", ["form_id"])
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_broadcasts_draft_id", ["draft_id"])


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_broadcasts_draft_id", type_="unique")
        batch_op.drop_column("draft_id")
    with op.batch_alter_table("hardship_requests", schema=None) as batch_op:
        batch_op.drop_constraint("uq_hardship_requests_form_id", type_="unique")
        batch_op.drop_column("form_id")
    op.execute("DELETE FROM conversation_states WHERE chat_id <> user_id OR flow = ''")
    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.drop_constraint("pk_conversation_states", type_="primary")
        batch_op.create_primary_key("pk_conversation_states", ["bot_id", "channel", "chat_id"])
    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("user_id")
