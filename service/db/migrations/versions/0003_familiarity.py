"""familiarity references

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "familiarity_references",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("modality", sa.String(length=10), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("quantile", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("familiarity_references", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_familiarity_references_model_sha256"), ["model_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("familiarity_references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_familiarity_references_model_sha256"))
    op.drop_table("familiarity_references")
