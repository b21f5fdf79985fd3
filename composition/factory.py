"""The application factory: one `create_app(settings)` that tests call with their own settings.

It mounts every feature's routes, registers their collectors and listeners, and runs the
app's background chores (retention purge, SQLite checkpoints)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import admin.appointment_pages
import admin.board_pages
import admin.catalog_edit_pages
import admin.catalog_pages
import admin.catalog_preview
import admin.config_pages
import admin.device_pages
import admin.hours_pages
import admin.kiosk_pages
import admin.pages
import admin.routes
import admin.user_pages
import analytics.routes
import counter.routes
import kiosk.routes
import navigator.routes
from analytics.live_figures import QueueCollector
from analytics.rollups import claim_timezone
from composition import wiring
from counter.appointments import checkin
from counter.appointments.booking import BookingRules
from counter.retention import purge_personal_data
from frontyard import (
    PROJECT_ROOT,
    account_pages,
    branding_routes,
    database,
    revocation,
    routing,
    web,
)
from frontyard.auth import LoginThrottle, timing_equaliser
from frontyard.errors import EXCEPTION_HANDLERS
from frontyard.live import Fanout
from frontyard.logs import install_redaction
from frontyard.metrics import (
    RequestTimingMiddleware,
    ScreensCollector,
    make_registry,
    metrics_endpoint,
)
from frontyard.ratelimit import RateLimits
from frontyard.realtime import Hub, PostgresBridge, libpq_dsn
from frontyard.security import (
    CrossSiteRequestMiddleware,
    LocaleMiddleware,
    SecurityHeadersMiddleware,
)
from frontyard.service_lock import hold_while_serving
from frontyard.settings import Settings
from frontyard.templating import make_templates
from kiosk import pre_entry

SESSION_COOKIE = "fy_session"
SESSION_MAX_AGE = 12 * 3600  # one working day
PURGE_INTERVAL_SECONDS = 3600
log = logging.getLogger("frontyard")


def _routes() -> list[Route | Mount]:
    """Every area's routes, mounted in one place (ids in addresses bounded, see routing)."""
    routes = [
        *web.routes,
        *account_pages.routes,
        *branding_routes.routes,
        *admin.routes.routes,
        *admin.pages.routes,
        *admin.hours_pages.routes,
        *admin.user_pages.routes,
        *admin.device_pages.routes,
        *admin.board_pages.routes,
        *admin.kiosk_pages.routes,
        *admin.config_pages.routes,
        *admin.catalog_pages.routes,
        *admin.catalog_edit_pages.routes,
        *admin.catalog_preview.routes,
        *admin.appointment_pages.routes,
        *kiosk.routes.routes,
        *counter.routes.routes,
        *analytics.routes.routes,
        *navigator.routes.routes,
        Route("/metrics", metrics_endpoint, name="metrics"),
        Mount("/static", app=StaticFiles(directory=PROJECT_ROOT / "static"), name="static"),
    ]
    routing.bound_ids(routes)
    return routes


async def _in_tracked_thread(work: Callable[[], object],
                             in_flight: set[asyncio.Future[Any]]) -> None:
    """Run blocking database work in a thread. Cancelling the caller must not abandon it
    mid-transaction: the shutdown waits for it (in `in_flight`) before the engine and its
    connections are disposed of."""
    future = asyncio.ensure_future(asyncio.to_thread(work))
    in_flight.add(future)
    future.add_done_callback(in_flight.discard)
    await asyncio.shield(future)


async def _purge_hourly(settings: Settings, engine: Engine,
                        in_flight: set[asyncio.Future[Any]]) -> None:
    """Apply the retention rule now and then every hour, for as long as the app runs."""

    def purge_once() -> None:
        with database.session_scope(engine) as session:
            purge_personal_data(session, database.utcnow(), settings.retention_hours,
                                settings.tz)
            pre_entry.purge(session, database.utcnow(), settings.pre_entry_retention_days)
        with database.session_scope(engine) as session:
            # Appointments: missed ones become no-shows; old names and contacts are erased.
            now = database.utcnow()
            checkin.mark_no_shows(session, BookingRules.from_settings(settings), now)
            checkin.forget_old_contacts(session, now, settings.retention_hours)

    while True:
        try:
            await _in_tracked_thread(purge_once, in_flight)
        except Exception:  # a busy or unreachable database must not stop the app
            log.exception("retention purge failed; retrying in an hour")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


async def _checkpoint_often(engine: Engine, in_flight: set[asyncio.Future[Any]]) -> None:
    """Checkpoint SQLite's log every few seconds, off the requests' path (see
    `database.make_engine`)."""
    while True:
        await asyncio.sleep(database.CHECKPOINT_INTERVAL)
        try:
            await _in_tracked_thread(partial(database.checkpoint, engine), in_flight)
        except Exception:  # e.g. the disk is full: requests will say so; keep trying
            log.exception("SQLite checkpoint failed; retrying")


def _claim_analytics_timezone(settings: Settings, engine: Engine) -> None:
    """Empty analytics rollups adopt the city's zone; warn when they are kept in another."""
    with database.session_scope(engine) as session:
        if not claim_timezone(session, settings.tz):
            log.warning("the analytics rollups are kept in another time zone than %s; run "
                        "`frontyard analytics rebuild`", settings.timezone)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the ASGI application; the database must already be migrated."""
    settings = settings or Settings()
    wiring.connect_features()
    install_redaction()  # whoever configured logging, secrets in addresses stay out of it
    engine = database.make_engine(settings.resolved_database_url(), background_checkpoints=True)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Held while serving: `frontyard restore` refuses meanwhile (a failed start exits).
        service_lock = hold_while_serving(settings.resolved_database_url())
        if settings.check_migrations:
            database.ensure_migrated(engine)
            _claim_analytics_timezone(settings, engine)
        # Before the first sign-in, so that an unknown name never costs more than a wrong password.
        timing_equaliser()
        hub: Hub = app.state.hub
        hub.bind_loop(asyncio.get_running_loop())
        bridge = None
        if engine.dialect.name == "postgresql":
            bridge = PostgresBridge(libpq_dsn(settings.resolved_database_url()), hub)
            await bridge.start()
        app.state.bridge = bridge
        in_flight: set[asyncio.Future[Any]] = set()
        chores = [asyncio.create_task(_purge_hourly(settings, engine, in_flight),
                                      name="frontyard-purge")]
        following = asyncio.Event()
        chores.append(asyncio.create_task(
            revocation.follow(hub, app.state.fanout, app.state.login_throttle, following),
            name="frontyard-revocations"))
        await following.wait()  # subscribed before the first request can revoke anything
        if engine.dialect.name == "sqlite":
            chores.append(asyncio.create_task(_checkpoint_often(engine, in_flight),
                                              name="frontyard-checkpoint"))
        try:
            yield
        finally:
            for chore in chores:
                chore.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            await app.state.fanout.stop()
            if bridge is not None:
                await bridge.stop()
            engine.dispose()
            service_lock.release()

    # Outermost first: the language is known before any error page is rendered.
    middleware = [
        Middleware(LocaleMiddleware, default_locale=settings.default_locale),
        Middleware(RequestTimingMiddleware),
        Middleware(SecurityHeadersMiddleware),
        Middleware(CrossSiteRequestMiddleware, trusted_origins=(settings.base_url,)),
        Middleware(
            SessionMiddleware,
            secret_key=settings.resolved_secret_key(),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=settings.secure_cookies,
        ),
    ]
    app = Starlette(
        routes=_routes(),
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.templates = make_templates(settings)
    app.state.hub = Hub()
    app.state.fanout = Fanout(app.state.hub, app)
    app.state.metrics_registry, app.state.request_latency = make_registry([
        QueueCollector(engine, settings.tz),
        ScreensCollector(app.state.hub, app.state.fanout.socket_count)])
    app.state.login_throttle = LoginThrottle(
        settings.login_max_failures, settings.login_lockout_seconds,
        max_per_address=settings.login_max_failures_per_address,
        max_per_account=settings.login_max_failures_per_account,
    )
    app.state.rate_limits = RateLimits.from_settings(settings)
    return app


#: Allocations between young collections (CPython's default is 700), and how many young and
#: middle collections pass before the next older one is considered.
GC_THRESHOLDS = (20_000, 20, 50)


def tune_garbage_collector() -> None:
    """Make full collections rare and cheap in a serving process.

    Every connected screen keeps a few hundred objects alive for hours (its socket, protocol
    state, tasks); a full collection walks all of them and, with a few thousand phones,
    freezes every screen of the worker for 100–300 ms. What start-up created (modules,
    templates, the ORM's metadata) is frozen out of collection for good; the thresholds make
    collections of the older generations much rarer, at the price of cyclic garbage living a
    little longer.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
