"""Settings: defaults, validation with clear messages, the generated secret, documentation."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from frontyard import PROJECT_ROOT
from frontyard.settings import Settings


def test_defaults_use_sqlite_in_data_dir(tmp_path):
    """Without a URL the database is a SQLite file in the data folder."""
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'frontyard.sqlite3'}"
    assert settings.timezone == "Asia/Tokyo"
    assert settings.secure_cookies is False


def test_postgres_url_gets_psycopg3_driver():
    """A plain postgresql:// URL is run with psycopg 3."""
    settings = Settings(database_url="postgresql://app@db.example/frontyard")
    assert settings.resolved_database_url().startswith("postgresql+psycopg://")


def test_environment_is_read(monkeypatch, tmp_path):
    """Every setting comes from a FRONTYARD_ variable."""
    monkeypatch.setenv("FRONTYARD_BASE_URL", "https://madoguchi.city.example.lg.jp")
    monkeypatch.setenv("FRONTYARD_RETENTION_HOURS", "24")
    monkeypatch.setenv("FRONTYARD_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.retention_hours == 24
    assert settings.secure_cookies is True


@pytest.mark.parametrize("url", ["not a url", "mysql://x@y/z", "://nothing"])
def test_malformed_database_url_is_refused_clearly(url):
    """A wrong URL is a validation error naming the variable."""
    with pytest.raises(ValidationError) as raised:
        Settings(database_url=url)
    assert "FRONTYARD_DATABASE_URL" in str(raised.value)


def test_unknown_timezone_is_refused():
    """A typo in the zone would shift every ticket day."""
    with pytest.raises(ValidationError, match="FRONTYARD_TIMEZONE"):
        Settings(timezone="Asia/Tokio")


def test_secret_key_is_generated_once_and_kept(tmp_path):
    """No fixed default: a random key is made on first use and reused afterwards."""
    first = Settings(data_dir=tmp_path).resolved_secret_key()
    second = Settings(data_dir=tmp_path).resolved_secret_key()
    other = Settings(data_dir=tmp_path / "elsewhere").resolved_secret_key()
    assert first == second and len(first) >= 40
    assert other != first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_workers_starting_together_agree_on_one_secret_key(tmp_path):
    """Eight processes generating the key at once all end up with the same one (the issue's
    first-start race), and no draft file is left behind."""
    import subprocess
    import sys

    script = ("import sys; from pathlib import Path; from frontyard.settings import Settings; "
              "print(Settings(data_dir=Path(sys.argv[1])).resolved_secret_key())")
    starting = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)],
                                 stdout=subprocess.PIPE, text=True) for _ in range(8)]
    keys = {process.communicate(timeout=120)[0].strip() for process in starting}
    assert keys == {(tmp_path / "secret_key").read_text()}
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]


def test_explicit_secret_key_wins(tmp_path):
    """A configured key is used as is and nothing is written."""
    assert Settings(data_dir=tmp_path, secret_key="configured").resolved_secret_key() == (
        "configured")
    assert not (tmp_path / "secret_key").exists()


def test_every_setting_is_documented_in_readme():
    """README's settings table names every FRONTYARD_ variable, and no stale ones."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(FRONTYARD_[A-Z_]+)`", readme))
    expected = {f"FRONTYARD_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set(), "undocumented settings"
    test_only = {"FRONTYARD_TEST_POSTGRES_URL"}
    assert documented - expected - test_only == set(), "README documents unknown settings"


def test_every_cli_command_is_documented_in_readme():
    """README's command table names every `frontyard` command."""
    import click

    from composition.cli import main

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")

    def commands(group: click.Group, prefix: str) -> list[str]:
        found = []
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                found += commands(command, f"{prefix}{name} ")
            else:
                found.append(f"{prefix}{name}")
        return found

    missing = [c for c in commands(main, "frontyard ") if f"`{c}" not in readme]
    assert not missing, f"commands missing from README: {missing}"
