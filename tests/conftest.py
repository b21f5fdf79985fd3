"""Fixtures: a fresh database per test (SQLite always, PostgreSQL when configured), the app,
HTTP clients signed in per role, and small helpers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from composition import wiring
from composition.factory import create_app
from composition.schema import metadata
from frontyard import database
from frontyard.auth import Role, create_user
from frontyard.settings import Settings

# Tests drive the queue directly too, not only through the app: analytics must hear of it.
wiring.connect_features()

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ENV = "FRONTYARD_TEST_POSTGRES_URL"
TEST_ORIGIN = "http://testserver"
PASSWORDS = {Role.STAFF: "staff-password-1", Role.MANAGER: "manager-password-1",
             Role.ADMIN: "admin-password-1"}


def skip_or_fail(reason: str) -> None:
    """Skip locally; in CI a missing dependency is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required)")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Argon2 at production cost takes ~0.5 s a hash here; tests use the cheapest parameters."""
    from argon2 import PasswordHasher

    from frontyard import auth

    saved = auth._hasher, auth._DUMMY_HASH
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    auth._DUMMY_HASH = auth._hasher.hash("frontyard-timing-equaliser")
    yield
    auth._hasher, auth._DUMMY_HASH = saved


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def migrated(sqlite_template: Path) -> Callable[[Path], Path]:
    """Puts a migrated SQLite database in a data folder, where `frontyard` looks for it: what
    `frontyard db upgrade` leaves there, copied from the template (no process, no migration)."""

    def place(data_dir: Path) -> Path:
        data_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(sqlite_template, data_dir / "frontyard.sqlite3"))

    return place


@pytest.fixture(scope="session")
def postgres_base_url(worker_id: str) -> Iterator[str | None]:
    """A migrated PostgreSQL database of this xdist worker's own, or None when not configured."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        yield None
        return
    import psycopg

    url = make_url(base)
    # The process id keeps concurrent test runs on one server out of each other's way.
    name = f"frontyard_test_{worker_id}_{os.getpid()}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        if IN_CI:
            raise
        print(f"PostgreSQL at {base} unreachable: {error}")
        yield None
        return
    worker_url = url.set(database=name).render_as_string(hide_password=False)
    database.upgrade(Settings(database_url=worker_url).resolved_database_url())
    yield worker_url
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_database(url: str) -> None:
    """Delete every row and restart every id sequence, as a freshly migrated database has them.

    DELETE, not TRUNCATE: truncating the ~40 tables makes new files for each and syncs them,
    ~0.3 s a test; deleting the few rows a test leaves takes a tenth of that."""
    engine = database.make_engine(Settings(database_url=url).resolved_database_url())
    try:
        with engine.begin() as connection:
            sequences = connection.execute(text(
                "SELECT sequence_name FROM information_schema.sequences"
                " WHERE sequence_schema = current_schema()")).scalars().all()
            # Children before parents, so that no foreign key is ever violated on the way.
            statements = [f'DELETE FROM "{table.name}"'
                          for table in reversed(metadata().sorted_tables)]
            statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
            connection.exec_driver_sql("; ".join(statements))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path,
    postgres_base_url: str | None,
) -> str:
    """A clean, migrated database for one test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "frontyard.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    if postgres_base_url is None:
        skip_or_fail(f"PostgreSQL tests skipped: set {POSTGRES_ENV} to a reachable server")
    assert postgres_base_url is not None
    empty_database(postgres_base_url)
    return postgres_base_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own database and data folder, a fixed secret."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-for-signing-sessions",
        base_url=TEST_ORIGIN,
    )


@pytest.fixture
def engine(settings: Settings):  # type: ignore[no-untyped-def]
    """The test database's engine."""
    engine = database.make_engine(settings.resolved_database_url())
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    """The application under test."""
    return create_app(settings)


def make_client(app) -> TestClient:  # type: ignore[no-untyped-def]
    """A client that behaves like our own pages: same-origin headers on every request."""
    return TestClient(app, headers={"Origin": TEST_ORIGIN, "Sec-Fetch-Site": "same-origin"})


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """An anonymous client with the app's lifespan running."""
    with make_client(app) as test_client:
        yield test_client


@pytest.fixture
def users(engine) -> dict[Role, str]:  # type: ignore[no-untyped-def]
    """One account per role; returns role → user name."""
    names = {}
    with database.session_scope(engine) as session:
        for role, password in PASSWORDS.items():
            create_user(session, f"{role.value}1", password, role, display_name=f"Test {role}")
            names[role] = f"{role.value}1"
    return names


def log_in(client: TestClient, username: str, password: str) -> None:
    """Sign the client in through the real login form."""
    response = client.post("/login", data={"username": username, "password": password},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def _client_for(app, users: dict[Role, str], role: Role) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with make_client(app) as test_client:
        log_in(test_client, users[role], PASSWORDS[role])
        yield test_client


@pytest.fixture
def staff_client(app, users):  # type: ignore[no-untyped-def]
    """A client signed in as counter staff."""
    yield from _client_for(app, users, Role.STAFF)


@pytest.fixture
def manager_client(app, users):  # type: ignore[no-untyped-def]
    """A client signed in as a manager."""
    yield from _client_for(app, users, Role.MANAGER)


@pytest.fixture
def admin_client(app, users):  # type: ignore[no-untyped-def]
    """A client signed in as an admin."""
    yield from _client_for(app, users, Role.ADMIN)


# --- Queue: a small office to run the engine against -------------------------------------------

QUEUE_SERVICES = [  # code, prefix, steps
    ("residents", "A", ["受付", "確認", "交付"]),
    ("insurance", "B", []),
    ("childcare", "C", []),
]


@dataclass(frozen=True)
class QueueWorld:
    """Ids of a seeded office: its services by code, its counters and one staff user each."""

    office_id: int
    services: dict[str, int]
    counters: list[int]
    staff: list[int]


def seed_queue_world(engine, counters: int = 3) -> QueueWorld:  # type: ignore[no-untyped-def]
    """An office with three services (A: residents with three steps, B, C), `counters`
    closed counters numbered from 1, and one staff user per counter (no usable password)."""
    from counter.models import Counter, Office, Service
    from frontyard.auth import User

    with database.session_scope(engine) as session:
        office = Office(code="test", names={"ja": "テスト庁舎", "en": "Test office"})
        session.add(office)
        session.flush()
        services = {}
        for order, (code, prefix, steps) in enumerate(QUEUE_SERVICES):
            service = Service(office_id=office.id, code=code, prefix=prefix, steps=steps,
                              names={"ja": f"{code}（ja）", "en": code.title()},
                              sort_order=order)
            session.add(service)
            session.flush()
            services[code] = service.id
        counter_ids, staff_ids = [], []
        for number in range(1, counters + 1):
            counter = Counter(office_id=office.id, number=str(number),
                              names={"ja": f"{number}番窓口", "en": f"Counter {number}"})
            user = User(username=f"counter-staff-{number}", password_hash="!", role=Role.STAFF)
            session.add_all([counter, user])
            session.flush()
            counter_ids.append(counter.id)
            staff_ids.append(user.id)
        return QueueWorld(office.id, services, counter_ids, staff_ids)


@pytest.fixture
def world(engine) -> QueueWorld:  # type: ignore[no-untyped-def]
    """A seeded office with three services and three counters (see `seed_queue_world`)."""
    return seed_queue_world(engine)
