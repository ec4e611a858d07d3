"""labelled listing-photo gallery: photos by category; their vectors go to gallery_vectors

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gallery_photos",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("examination_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["examination_id"], ["examinations.id"]),
        sa.ForeignKeyConstraint(["image_sha256"], ["images.sha256"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("image_sha256", "category"),
    )
    with op.batch_alter_table("gallery_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gallery_photos_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_gallery_photos_examination_id"), ["examination_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gallery_photos_image_sha256"), ["image_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gallery_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gallery_photos_image_sha256"))
        batch_op.drop_index(batch_op.f("ix_gallery_photos_examination_id"))
        batch_op.drop_index(batch_op.f("ix_gallery_photos_category"))
    op.drop_table("gallery_photos")
