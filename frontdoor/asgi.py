"""Entry point for uvicorn: `uvicorn frontdoor.asgi:app` (settings from the environment)."""

from frontdoor.app import create_app
from frontdoor.settings import Settings

app = create_app(Settings())
