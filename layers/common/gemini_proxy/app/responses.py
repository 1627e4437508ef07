"""JSON bodies that are already bytes (serialised by pydantic, in Rust): no second encoding."""

from starlette.responses import Response


class JSONBytes(Response):
    media_type = "application/json"
