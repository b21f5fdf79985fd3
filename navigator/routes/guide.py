"""The procedure navigator: life-event questions, procedures, online alternatives, best time."""

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
