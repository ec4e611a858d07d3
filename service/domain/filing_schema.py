"""Filing schemas: the data elements of the Section 321 Data Pilot PIA, section 2.1.

Mandatory elements follow paragraphs 1 (all filers), 2 (carriers; brokers and forwarders file the
same elements) and 3 (online marketplaces); every optional element in the PIA's list has a typed
field. Unknown fields are refused so a misspelt element is never silently dropped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, StringConstraints, WithJsonSchema, model_validator

from service.domain.actors import CARRIER_LIKE, CarrierLike, FilerRole
from service.domain.limits import IDENT_MAX, NO_CONTROL, NO_NUL

IMAGE_PARTS = ("security_scan", "product_picture")
# The `filing` part's JSON: a complete filing with every optional element at its longest is ~40 kB
# and nests 3 levels (filing > party > address); anything far past that is not a filing.
MAX_FILING_BYTES = 256 * 1024
MAX_FILING_DEPTH = 8

# No string may hold NUL (service.domain.limits); identifiers are one line and fit their String(100) columns.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=NO_NUL)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000, pattern=NO_NUL)]
Ident = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=IDENT_MAX, pattern=NO_CONTROL)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()./-]{5,30}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# HTS: a 4-digit heading up to a 10-digit statistical suffix, dots optional (6109.10.0012).
HtsNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{4}(\.?\d{2}){0,3}$")]
# Decimals are read from strings ("199.00") or numbers. The schemas (OpenAPI) show the form to send, with the
# digits allowed, which pydantic's own schema for a Decimal leaves out: money as a string (a JSON number may
# not hold cents exactly), a weight as a number.
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{1,12}(\.\d{1,2})?$",
            "description": "a decimal: at most 12 digits before the point and 2 after it",
        }
    ),
]
Kilograms = Annotated[
    Decimal,
    Field(gt=0, le=100_000),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 100_000}),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(Strict):
    street: Text
    city: Text
    postal_code: Ident | None = None
    region: Text | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2 country code"
    )


class Contact(Strict):
    """A party named among the optional elements: only the name is needed once it is given."""

    name: Text
    address: Address | None = None
    phone: Phone | None = None
    email: EmailStr | None = None


class Party(Contact):
    """A party whose name and address are mandatory elements."""

    address: Address


class Money(Strict):
    amount: Amount
    currency: Currency


class Identifiers(Strict):
    # The rule below, in the schema too: a client (or a fuzzer) generating from it sends at least one.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("tracking_number", "house_bill", "master_bill")
            ]
        }
    )

    tracking_number: Ident | None = None
    house_bill: Ident | None = None
    master_bill: Ident | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Identifiers:
        if not (self.tracking_number or self.house_bill or self.master_bill):
            raise ValueError("give at least one of tracking_number, house_bill, master_bill")
        return self


class FilingBase(Strict):
    # PIA 2.1, paragraph 1: every filer.
    originator_code: Ident
    filer_type: FilerRole
    identifiers: Identifiers
    mode: Literal["air", "truck", "rail", "vessel", "mail"]
    transmission_id: Ident | None = Field(
        default=None, description="the filer's own id for this transmission; a retry with it is idempotent"
    )
    # Every other element of PIA 2.1 is optional for every filer; the subclasses make their own
    # paragraph's elements mandatory.
    hts_number: HtsNumber | None = None
    retail_price_export_country: Money | None = None
    listed_price: Money | None = None
    shipper: Contact | None = None
    consignee: Contact | None = None
    shipment_initiator: Party | None = None
    seller: Contact | None = None
    buyer: Contact | None = None
    marketplace_name: Text | None = None
    marketplace_website: HttpUrl | None = None
    buyer_account_number: Ident | None = None
    buyer_confirmation_number: Ident | None = None
    carrier_name: Text | None = None
    known_carrier_customer: bool | None = None
    enhanced_description: LongText | None = None
    final_deliver_to: Party | None = None
    known_marketplace_seller: bool | None = None
    seller_id: Ident | None = None
    listing_url: HttpUrl | None = None
    weight_kg: Kilograms | None = None
    quantity: int | None = Field(default=None, gt=0, le=1_000_000)


class CarrierFiling(FilingBase):
    """PIA 2.1, paragraph 2: carriers (brokers and forwarders transmit the same elements)."""

    filer_type: CarrierLike
    shipment_initiator: Party
    final_deliver_to: Party
    enhanced_description: LongText
    known_carrier_customer: bool


class MarketplaceFiling(FilingBase):
    """PIA 2.1, paragraph 3: online marketplaces."""

    filer_type: Literal["marketplace"]
    seller: Party
    final_deliver_to: Party
    known_marketplace_seller: bool
    seller_id: Ident
    listed_price: Money


Filing = CarrierFiling | MarketplaceFiling


def schema_for(filer_type: object) -> type[CarrierFiling] | type[MarketplaceFiling] | type[FilingBase]:
    if filer_type == "marketplace":
        return MarketplaceFiling
    if filer_type in CARRIER_LIKE:
        return CarrierFiling
    return FilingBase
