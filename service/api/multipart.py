"""Multipart intake that names the part breaking a limit: Starlette's own message does not say which."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import aclosing
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser


class PartOverLimit(HTTPException):
    """A text part over the form's size limit; service.api.errors answers it naming the part."""

    def __init__(self, part: str, limit: int) -> None:
        super().__init__(413, f"{part}: the part is over the limit of {limit:,} bytes for a part sent as text")
        self.part = part


class _OverLimit(MultiPartException):
    def __init__(self, part: str, limit: int) -> None:
        super().__init__(f"Part {part!r} exceeded maximum size of {limit} bytes.")
        self.part, self.limit = part, limit


class _NamingParser(MultiPartParser):
    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        try:
            super().on_part_data(data, start, end)
        except MultiPartException:
            # Raised inside the parser, so Starlette still closes the part files it had opened.
            raise _OverLimit(self._current_part.field_name, self.max_part_size) from None


class _NamingRequest(Request):
    async def _get_form(
        self, *, max_files: int | float = 1000, max_fields: int | float = 1000, max_part_size: int = 1024 * 1024
    ) -> FormData:
        # Starlette's own multipart branch, with the parser above; everything else is left to Starlette.
        content_type, _ = parse_options_header(self.headers.get("Content-Type"))
        if self._form is None and content_type == b"multipart/form-data":
            try:
                async with aclosing(self.stream()) as stream:
                    parser = _NamingParser(
                        self.headers, stream, max_files=max_files, max_fields=max_fields, max_part_size=max_part_size
                    )
                    self._form = await parser.parse()
            except _OverLimit as error:
                raise PartOverLimit(error.part, error.limit) from None
            except MultiPartException as error:
                raise HTTPException(400, detail=error.message) from None
        return await super()._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)


class IntakeRoute(APIRoute):
    """A route whose multipart body is parsed by the naming parser above."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def named(request: Request) -> Response:
            return await handler(_NamingRequest(request.scope, request.receive))

        return named
