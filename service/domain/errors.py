"""Domain errors. They speak the user's terms; service.api.errors maps them to HTTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str
    type: str


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAuthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class FilingInvalid(DomainError):
    code = "invalid_filing"

    def __init__(self, errors: list[FieldError]) -> None:
        paths = ", ".join(e.path for e in errors)
        super().__init__(f"the filing has {len(errors)} problem(s): {paths}")
        self.errors = errors


class InvalidQuery(DomainError):
    code = "invalid_query"


class InvalidRequest(DomainError):
    """A request its schema refused (a path, query, header or body value): raised by the API layer's validation."""

    code = "invalid_request"


class PartRejected(DomainError):
    """A part of a multipart transmission cannot be accepted as sent; the answer names the part."""

    code = "part_rejected"

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{part}: {message}")
        self.part = part


class PartTooLarge(PartRejected):
    code = "part_too_large"


class DuplicatePart(PartRejected):
    code = "duplicate_part"


class ImageRejected(PartRejected):
    """The bytes of an image part cannot be accepted (not an image, unsupported, corrupt)."""

    code = "image_rejected"


class ImageTooLarge(ImageRejected):
    code = "image_too_large"


class TransmissionConflict(DomainError):
    code = "transmission_conflict"


class KeyProblem(DomainError):
    code = "key_problem"


class WouldLockOut(DomainError):
    """Revoking this key would leave no administrator able to manage keys."""

    code = "would_lock_out"


class MatchingUnavailable(DomainError):
    code = "matching_unavailable"


class MatchingStarting(MatchingUnavailable):
    """The matcher is still loading its networks or calibrating: retry shortly."""

    code = "matching_starting"
    retry_after_s = 30


class DataDirectoryBusy(DomainError):
    """The data directory is held by a process that excludes this one (service.domain.data_lock)."""

    code = "data_directory_busy"
