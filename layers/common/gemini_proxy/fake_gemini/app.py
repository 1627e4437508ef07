"""The fake upstream as one Starlette app: AI Studio, Code Assist, OAuth and the control API.

All three base URLs of the proxy (AI Studio, Code Assist, OAuth token URL `<base>/token`) point at
the same loopback port; the paths never collide.
"""

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from .ai_studio import AiStudio
from .code_assist import CodeAssist
from .control import Control
from .oauth import OAuth
from .settings import FakeSettings
from .state import FakeState


def create_app(settings: FakeSettings | None = None) -> Starlette:
    state = FakeState(settings if settings is not None else FakeSettings())
    routes: list[BaseRoute] = [
        *AiStudio(state).routes(),
        *CodeAssist(state).routes(),
        *OAuth(state).routes(),
        *Control(state).routes(),
    ]
    app = Starlette(routes=routes)
    # Tests running the app in-process can reach the state directly.
    app.state.fake = state
    return app
