"""Details entered at home: the kiosk's no-write form on the resident's phone, and its code."""

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
