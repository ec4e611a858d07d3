"""Who is asking: participants' roles and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# Who files (PIA 2.1): carriers, and brokers and forwarders who transmit the carriers' elements, and
# online marketplaces. Filers' keys carry their filer type as their role.
CarrierLike = Literal["carrier", "broker", "forwarder"]
FilerRole = Literal["carrier", "marketplace", "broker", "forwarder"]
CARRIER_LIKE: tuple[str, ...] = get_args(CarrierLike)
FILER_ROLES: tuple[str, ...] = get_args(FilerRole)
ROLES = (*FILER_ROLES, "inspector", "admin")


@dataclass(frozen=True)
class Principal:
    participant_id: str
    name: str
    role: str
    originator_code: str | None
    key_id: str | None = None  # the key this request came with

    @property
    def is_filer(self) -> bool:
        return self.role in FILER_ROLES


@dataclass(frozen=True)
class Actor:
    """Who is asking, as far as we know (None when the key was missing or wrong), and for which request."""

    principal: Principal | None
    request_id: str | None = None

    def has_role(self, *roles: str) -> bool:
        return self.principal is not None and self.principal.role in roles
