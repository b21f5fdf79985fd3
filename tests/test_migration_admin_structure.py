"""Migration 0007 on SQLite and PostgreSQL: an existing office's services become queues and
nobody is restricted; it downgrades and upgrades again without losing rows."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from frontyard import database


def test_upgrade_keeps_services_as_unrestricted_queues(database_url, engine):
    """Rows from before 0007 get the defaults; down and up again is lossless."""
    config = database.alembic_config(database_url)
    try:
        command.downgrade(config, "0006")
        assert "staffservice" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO office (code, names) VALUES ('old', '{}')"))
            connection.execute(text(
                "INSERT INTO service (office_id, code, prefix, names, section, steps, "
                "step_names, sort_order, active) SELECT id, 'svc', 'A', '{}', '{}', '[]', '{}', "
                "0, true FROM office"))
        command.upgrade(config, "head")
        with engine.connect() as connection:
            row = connection.execute(text("SELECT kind, colour FROM service")).one()
            address = connection.execute(text("SELECT address FROM office")).scalar_one()
            restrictions = connection.execute(text("SELECT count(*) FROM staffservice")).scalar()
        assert tuple(row) == ("queue", "") and address == "" and restrictions == 0
        command.downgrade(config, "0006")
        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT code FROM service")).scalar_one() == "svc"
    finally:
        command.upgrade(config, "head")
