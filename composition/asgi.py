"""The ASGI entry point for uvicorn: settings from the environment, and a process tuned for
thousands of long-lived websockets."""

from composition.factory import create_app, tune_garbage_collector
from frontyard.errors import ContainErrors

app = ContainErrors(create_app())
tune_garbage_collector()
