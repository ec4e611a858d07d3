"""filing intake

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("participant_id", sa.String(length=40), nullable=True),
        sa.Column("participant_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=True),
        sa.Column("filing_id", sa.String(length=40), nullable=True),
        sa.Column("image_sha256", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_at", ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_filing_id"), ["filing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_shipment_id"), ["shipment_id"], unique=False)

    op.create_table(
        "images",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("originator_code", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "role"),
        sa.UniqueConstraint("originator_code"),
    )
    op.create_table(
        "shipments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_into_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["shipments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_merged_into_id"), ["merged_into_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("participant_id", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_participant_id"), ["participant_id"], unique=False)

    op.create_table(
        "consolidation_members",
        sa.Column("master_bill", sa.String(length=100), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
        ),
        sa.PrimaryKeyConstraint("master_bill", "shipment_id"),
    )
    with op.batch_alter_table("consolidation_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consolidation_members_shipment_id"), ["shipment_id"], unique=False)

    op.create_table(
        "filings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("receipt_shipment_id", sa.String(length=40), nullable=False),
        sa.Column("participant_id", sa.String(length=40), nullable=False),
        sa.Column("filer_type", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("transmission_id", sa.String(length=128), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("elements", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("participant_id", "transmission_id"),
    )
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filings_participant_id"), ["participant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_filings_shipment_id"), ["shipment_id"], unique=False)

    op.create_table(
        "shipment_identifiers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "value"),
    )
    with op.batch_alter_table("shipment_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_identifiers_shipment_id"), ["shipment_id"], unique=False)

    op.create_table(
        "filing_images",
        sa.Column("filing_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"],
            ["filings.id"],
        ),
        sa.ForeignKeyConstraint(
            ["image_sha256"],
            ["images.sha256"],
        ),
        sa.PrimaryKeyConstraint("filing_id", "role"),
    )
    with op.batch_alter_table("filing_images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filing_images_image_sha256"), ["image_sha256"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("filing_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_images_image_sha256"))

    op.drop_table("filing_images")
    with op.batch_alter_table("shipment_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_identifiers_shipment_id"))

    op.drop_table("shipment_identifiers")
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filings_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_filings_participant_id"))

    op.drop_table("filings")
    with op.batch_alter_table("consolidation_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consolidation_members_shipment_id"))

    op.drop_table("consolidation_members")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_participant_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_merged_into_id"))

    op.drop_table("shipments")
    op.drop_table("participants")
    op.drop_table("images")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_filing_id"))
        batch_op.drop_index("ix_audit_events_at")

    op.drop_table("audit_events")
