"""hardship event actor: the role (member, chair, deputy, admin, operator) and unit in which a step was taken

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hardship_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("actor_unit_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_hardship_events_actor_unit_id_units"), "units",
                                    ["actor_unit_id"], ["id"])
    # the steps stored before: the member's own ones are known (the request's member took them)
    op.execute("UPDATE hardship_events SET actor_role = 'member' WHERE actor_member_id = "
               "(SELECT member_id FROM hardship_requests WHERE hardship_requests.id = hardship_events.request_id)")


def downgrade() -> None:
    with op.batch_alter_table("hardship_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_hardship_events_actor_unit_id_units"), type_="foreignkey")
        batch_op.drop_column("actor_unit_id")
        batch_op.drop_column("actor_role")
