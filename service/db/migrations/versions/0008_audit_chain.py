"""tamper-evident audit trail: each record carries the previous record's hash; existing records chained in order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.db.tables import UTCDateTime
from service.domain.audit_chain import FIELDS, GENESIS, HEAD_ROW, digest

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=True),
        sa.Column("head_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("record_hash", sa.String(length=64), nullable=True))

    # Chain the records already written, oldest first (read through the same UTC type the service writes with,
    # so each time serializes as it will when verified).
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer()),
        sa.column("at", UTCDateTime()),
        *(sa.column(name, sa.Text()) for name in FIELDS if name != "at"),
        sa.column("prev_hash", sa.String()),
        sa.column("record_hash", sa.String()),
    )
    connection = op.get_bind()
    head, head_at, links = GENESIS, None, []
    for row in connection.execute(sa.select(events).order_by(events.c.id)).mappings():
        record_hash = digest(dict(row), head)
        links.append({"row_id": row["id"], "prev": head, "hash": record_hash})
        head, head_at = record_hash, row["at"]
    if links:
        link = (
            sa.update(events)
            .where(events.c.id == sa.bindparam("row_id"))
            .values(prev_hash=sa.bindparam("prev"), record_hash=sa.bindparam("hash"))
        )
        for start in range(0, len(links), 5000):
            connection.execute(link, links[start : start + 5000])
    chain = sa.table(
        "audit_chain", sa.column("id", sa.Integer()), sa.column("head_hash"), sa.column("head_at", UTCDateTime())
    )
    connection.execute(
        sa.insert(chain).values(id=HEAD_ROW, head_hash=None if head == GENESIS else head, head_at=head_at)
    )

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("record_hash", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("record_hash")
        batch_op.drop_column("prev_hash")
    op.drop_table("audit_chain")
