"""matching

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "calibrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calibrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calibrations_model_sha256"), ["model_sha256"], unique=False)

    op.create_table(
        "embeddings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("modality", sa.String(length=10), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_sha256"],
            ["images.sha256"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("image_sha256", "modality", "model_sha256"),
    )
    with op.batch_alter_table("embeddings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_embeddings_image_sha256"), ["image_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_embeddings_model_sha256"), ["model_sha256"], unique=False)

    op.create_table(
        "examinations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("participant_id", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("found_category", sa.String(length=60), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("xray_sha256", sa.String(length=64), nullable=True),
        sa.Column("verdict_decision", sa.String(length=20), nullable=True),
        sa.Column("verdict_risk", sa.Float(), nullable=True),
        sa.Column("examined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["xray_sha256"],
            ["images.sha256"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("examinations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_examinations_shipment_id"), ["shipment_id"], unique=False)

    op.create_table(
        "verdicts",
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
        ),
        sa.PrimaryKeyConstraint("shipment_id"),
    )
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verdicts_risk"), ["risk"], unique=False)

    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seller_id", sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f("ix_filings_seller_id"), ["seller_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filings_seller_id"))
        batch_op.drop_column("seller_id")

    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verdicts_risk"))

    op.drop_table("verdicts")
    with op.batch_alter_table("examinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_examinations_shipment_id"))

    op.drop_table("examinations")
    with op.batch_alter_table("embeddings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_embeddings_model_sha256"))
        batch_op.drop_index(batch_op.f("ix_embeddings_image_sha256"))

    op.drop_table("embeddings")
    with op.batch_alter_table("calibrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibrations_model_sha256"))

    op.drop_table("calibrations")
