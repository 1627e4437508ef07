"""A faithful fake of Google's Gemini upstreams (AI Studio, Code Assist, OAuth) for tests.

`create_app()` lives in `gemini_proxy.fake_gemini.app`, `serve()` in
`gemini_proxy.fake_gemini.server`; the control API is described in `control`.
"""

from .settings import FakeSettings

__all__ = ["FakeSettings"]
