"""Prometheus metrics: request latencies, queue sizes and connected screens, at /metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from counter.models import Service, Task, TaskState
from frontyard.auth import Role
from frontyard.guards import current_user
from frontyard.realtime import Hub

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class QueueCollector(Collector):
    """Reads live queue sizes from the database at scrape time (always current, no drift)."""

    def __init__(self, engine: Engine, hub: Hub) -> None:
        self.engine = engine
        self.hub = hub

    def describe(self) -> list[Any]:
        """Nothing to describe up front: collecting needs the database, which may not be ready."""
        return []

    def collect(self) -> Iterator[Any]:
        """Waiting tasks per service and open realtime subscriptions of this process."""
        waiting = GaugeMetricFamily("frontyard_waiting_tasks",
                                    "Tasks waiting in each service's queue", labels=["service"])
        with Session(self.engine) as session:
            rows = session.execute(
                select(Service.code, func.count(Task.id))  # type: ignore[arg-type]
                .join(Task, Task.service_id == Service.id)  # type: ignore[arg-type]
                .where(Task.state == TaskState.WAITING)
                .group_by(Service.code)
            ).all()
        for code, count in rows:
            waiting.add_metric([code], count)
        yield waiting
        yield GaugeMetricFamily("frontyard_realtime_subscriptions",
                                "Open websocket/SSE subscriptions in this worker",
                                value=self.hub.subscriber_count())


def make_registry(engine: Engine, hub: Hub) -> tuple[CollectorRegistry, Histogram]:
    """A registry of this app's own (tests build many apps; no global state)."""
    registry = CollectorRegistry(auto_describe=False)
    latency = Histogram("frontyard_request_seconds", "HTTP request latency",
                        ["method", "route", "status"], registry=registry,
                        buckets=LATENCY_BUCKETS)
    registry.register(QueueCollector(engine, hub))
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
