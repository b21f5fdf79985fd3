"""Prometheus metrics at /metrics: the registry, request latencies and the endpoint.

The live screens connected to a worker are measured here; what the features measure (queue
sizes, calls and waits of the day) are collectors of their own (`analytics.live_figures`),
registered by the composition layer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frontyard.auth import Role
from frontyard.guards import current_user
from frontyard.realtime import Hub

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ScreensCollector(Collector):
    """Topics watched and live screens (boards, terminals, phones) connected to this worker."""

    def __init__(self, hub: Hub, socket_count: Callable[[], int]) -> None:
        self.hub = hub
        self.socket_count = socket_count

    def describe(self) -> list[Any]:
        """Described when collected, like the features' collectors."""
        return []

    def collect(self) -> Iterator[Any]:
        """Open subscriptions and sockets of this worker."""
        yield GaugeMetricFamily("frontyard_realtime_subscriptions",
                                "Topics watched through the realtime hub in this worker",
                                value=self.hub.subscriber_count())
        yield GaugeMetricFamily("frontyard_websocket_clients",
                                "Live screens (boards, terminals, phones) connected to this "
                                "worker", value=self.socket_count())


def make_registry(collectors: Iterable[Collector]) -> tuple[CollectorRegistry, Histogram]:
    """A registry of this app's own (tests build many apps; no global state), with the
    request-latency histogram and the features' collectors."""
    registry = CollectorRegistry(auto_describe=False)
    latency = Histogram("frontyard_request_seconds", "HTTP request latency",
                        ["method", "route", "status"], registry=registry,
                        buckets=LATENCY_BUCKETS)
    for collector in collectors:
        registry.register(collector)
    return registry, latency


class RequestTimingMiddleware:
    """Times every HTTP request, labelled by route template (never by raw path: no tokens)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Observe the duration once the response has started."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            histogram: Histogram = scope["app"].state.request_latency
            histogram.labels(scope["method"], template, f"{status // 100}xx").observe(
                time.perf_counter() - started)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format; for scrapers on this machine and for admins."""
    client = request.client.host if request.client else ""
    forwarded = "x-forwarded-for" in request.headers  # came through the proxy: not local
    if forwarded or client not in LOOPBACK:
        user = current_user(request)
        if user is None or not user.role.includes(Role.ADMIN):
            raise HTTPException(403)
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")
