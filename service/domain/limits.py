"""Limits on the strings that reach the database, declared once so every schema (and OpenAPI) carries them.

PostgreSQL refuses a NUL character in text and a value longer than its column, where SQLite stores both:
the schemas refuse them first, so both backends answer alike and nothing is written before the refusal.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

NO_NUL = r"^[^\x00]*$"  # free text (descriptions, notes): any character but NUL
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"  # names, identifiers: one line, no control characters
# Ids the service issues (shp_..., fil_..., key_...): String(40) columns.
ID_MAX = 40
ID_PATTERN = r"^[A-Za-z0-9_]{1,40}$"
IDENT_MAX = 100  # tracking numbers, house and master bills, seller ids, transmission ids: String(100)
NAME_MAX = 200  # participant names: String(200)
ROLE_MAX = 20
REASON_MAX = 2000  # why an administrator holds a shipment (free text)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX, pattern=NO_CONTROL)]


def problem(value: str, *, max_length: int) -> str | None:
    """Why `value` cannot be stored in a column of `max_length` (for callers outside a schema: the CLI)."""
    if len(value) > max_length:
        return f"is {len(value)} characters, over the limit of {max_length}"
    if "\x00" in value:
        return "contains a NUL character"
    return None
