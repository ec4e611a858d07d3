"""labelled x-ray gallery: scans and their vectors per gallery space; examined x-rays migrate in

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gallery_scans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("examination_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["examination_id"], ["examinations.id"]),
        sa.ForeignKeyConstraint(["image_sha256"], ["images.sha256"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("image_sha256", "category", "kind"),
    )
    with op.batch_alter_table("gallery_scans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gallery_scans_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_gallery_scans_examination_id"), ["examination_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gallery_scans_image_sha256"), ["image_sha256"], unique=False)

    op.create_table(
        "gallery_vectors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("model_sha256", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["image_sha256"], ["images.sha256"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("image_sha256", "model_sha256", "method", "part"),
    )
    with op.batch_alter_table("gallery_vectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gallery_vectors_image_sha256"), ["image_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_gallery_vectors_model_sha256"), ["model_sha256"], unique=False)

    # Examined x-rays already labelled join the gallery: one row per x-ray and category (the first
    # examination that found it). Their vectors are computed by the service's start-up reconcile.
    op.execute(
        """
        INSERT INTO gallery_scans (image_sha256, category, kind, source, examination_id, origin, added_at)
        SELECT xray_sha256, found_category, 'scan', 'examination', id,
               'examination ' || CAST(id AS VARCHAR(20)) || ' of shipment ' || shipment_id, examined_at
        FROM examinations
        WHERE id IN (
            SELECT MIN(id) FROM examinations
            WHERE found_category IS NOT NULL AND xray_sha256 IS NOT NULL
            GROUP BY xray_sha256, found_category
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("gallery_vectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gallery_vectors_model_sha256"))
        batch_op.drop_index(batch_op.f("ix_gallery_vectors_image_sha256"))
    op.drop_table("gallery_vectors")
    with op.batch_alter_table("gallery_scans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gallery_scans_image_sha256"))
        batch_op.drop_index(batch_op.f("ix_gallery_scans_examination_id"))
        batch_op.drop_index(batch_op.f("ix_gallery_scans_category"))
    op.drop_table("gallery_scans")
