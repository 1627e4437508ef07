"""Run the fake under uvicorn (used by `gemini-proxy fake-gemini`)."""

import uvicorn

from .app import create_app
from .settings import FakeSettings


async def serve(host: str, port: int, settings: FakeSettings) -> None:
    config = uvicorn.Config(
        create_app(settings), host=host, port=port, log_level="warning", access_log=False
    )
    await uvicorn.Server(config).serve()
