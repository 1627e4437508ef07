"""Errors that reach the client, always in OpenAI's shape.

Any layer may raise a `ProxyError`; the HTTP app turns it into
`{"error": {"message", "type", "param", "code"}}` with its status. Messages are written for the
person reading them and never contain a secret.
"""

from typing import Any


class ProxyError(Exception):
    status: int = 500
    type: str = "server_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(ProxyError):
    status = 400
    type = "invalid_request_error"


class Unsupported(InvalidRequest):
    """A known OpenAI parameter this proxy cannot honour; refused rather than silently dropped."""

    def __init__(self, param: str, why: str) -> None:
        super().__init__(
            f"'{param}' is not supported by this proxy: {why}",
            param=param,
            code="unsupported_parameter",
        )


class AuthenticationError(ProxyError):
    status = 401
    type = "invalid_request_error"


class NotFound(ProxyError):
    status = 404
    type = "invalid_request_error"


class NoCredentials(ProxyError):
    status = 503
    type = "server_error"
