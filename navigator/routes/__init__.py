"""Every public before-the-visit page, one module a page family."""

from starlette.routing import BaseRoute

from navigator.routes import at_home, booking, guide

routes: list[BaseRoute] = [*guide.routes, *at_home.routes, *booking.routes]
