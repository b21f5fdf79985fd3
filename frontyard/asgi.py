"""The ASGI entry point for uvicorn: settings from the environment."""

from frontyard.app import create_app

app = create_app()
