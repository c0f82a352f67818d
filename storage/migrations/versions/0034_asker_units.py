"""the asker's unit on unanswered questions, question counts and answer votes (0: no unit), for chairs' subtrees

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), server_default="0", nullable=False))
        batch.drop_constraint("uq_unanswered_questions_key", type_="unique")
        batch.create_unique_constraint("uq_unanswered_questions_key_unit", ["key", "unit_id"])
        batch.create_index("ix_unanswered_questions_unit_id", ["unit_id"])
    with op.batch_alter_table("question_counts") as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), server_default="0", nullable=False))
        batch.drop_constraint("pk_question_counts", type_="primary")
        batch.create_primary_key("pk_question_counts", ["day", "channel", "intent", "answered", "unit_id"])
    with op.batch_alter_table("answer_votes") as batch:
        batch.add_column(sa.Column("unit_id", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    """Back to one row per question and per count for the whole bot: the units' rows are summed (a question keeps
    the sample of the unit that asked it most, its first and its last time over every unit)."""
    with op.batch_alter_table("answer_votes") as batch:
        batch.drop_column("unit_id")
    op.execute("CREATE TABLE question_counts_sum AS SELECT day, channel, intent, answered, SUM(count) AS count "
               "FROM question_counts GROUP BY day, channel, intent, answered")
    op.execute("DELETE FROM question_counts")
    with op.batch_alter_table("question_counts") as batch:
        batch.drop_constraint("pk_question_counts", type_="primary")
        batch.drop_column("unit_id")
        batch.create_primary_key("pk_question_counts", ["day", "channel", "intent", "answered"])
    op.execute("INSERT INTO question_counts (day, channel, intent, answered, count) "
               "SELECT day, channel, intent, answered, count FROM question_counts_sum")
    op.drop_table("question_counts_sum")
    # one row per question: the most asked unit's (its sample), with every unit's count and the first and last times
    op.execute("CREATE TABLE unanswered_sum AS SELECT key, SUM(count) AS count, MIN(first_seen) AS first_seen, "
               "MAX(last_seen) AS last_seen FROM unanswered_questions GROUP BY key")
    op.execute("DELETE FROM unanswered_questions WHERE id <> (SELECT o.id FROM unanswered_questions o "
               "WHERE o.key = unanswered_questions.key ORDER BY o.count DESC, o.last_seen DESC, o.id LIMIT 1)")
    op.execute("UPDATE unanswered_questions SET "
               "count = (SELECT s.count FROM unanswered_sum s WHERE s.key = unanswered_questions.key), "
               "first_seen = (SELECT s.first_seen FROM unanswered_sum s WHERE s.key = unanswered_questions.key), "
               "last_seen = (SELECT s.last_seen FROM unanswered_sum s WHERE s.key = unanswered_questions.key)")
    op.drop_table("unanswered_sum")
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_index("ix_unanswered_questions_unit_id")
        batch.drop_constraint("uq_unanswered_questions_key_unit", type_="unique")
        batch.drop_column("unit_id")
        batch.create_unique_constraint("uq_unanswered_questions_key", ["key"])
