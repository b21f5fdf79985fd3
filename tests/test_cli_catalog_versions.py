"""`frontyard catalog upload|versions|publish|download|rollback` in a fresh process on a fresh
database, for a city of its own (not the demo), and `catalog check` agreeing with it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from frontyard import database
from frontyard.audit import AuditEntry
from tests.catalog_support import GOOD, broken, in_every_language, make_city
from tests.cli_process import run_frontyard


def _frontyard(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "FRONTYARD_DATA_DIR": str(tmp_path), "FRONTYARD_DATABASE_URL": ""}

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        result = run_frontyard(*args, env=env)
        assert result.returncode == code, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result

    return run


@pytest.mark.timeout(600)
def test_catalog_versions_from_the_command_line(tmp_path):
    """Upload a draft, publish it, refuse a broken one with its line, download, roll back."""
    run = _frontyard(tmp_path)
    url = f"sqlite:///{tmp_path / 'frontyard.sqlite3'}"
    database.upgrade(url)  # the city's set-up has its own CLI tests; here only the catalog's
    engine = database.make_engine(url)
    with database.session_scope(engine) as session:
        make_city(session)
    good = tmp_path / "good.yaml"
    good.write_text(in_every_language(GOOD), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(broken(in_every_language(GOOD)).replace("service: childcare\n  name:",
                                                            "service: nowhere\n  name:"),
                   encoding="utf-8")
    assert run("catalog", "upload", str(good)).stdout == "Saved version 1 (draft).\n"
    assert run("catalog", "publish", "1").stdout == "Published version 1.\n"
    refused = run("catalog", "upload", str(bad), "--publish", code=1)
    line = bad.read_text(encoding="utf-8").splitlines().index("  service: nowhere") + 1
    assert f"{bad}:{line}: procedures[1].service: unknown service 'nowhere'" in refused.stdout
    assert "draft version 2" in refused.stderr
    check = run("catalog", "check", str(bad), "--from-database", "--office", "kita", code=1)
    assert f"{bad}:{line}: procedures[1].service: unknown service 'nowhere'" in check.stdout
    assert run("catalog", "publish", "2", code=2).stderr.endswith("nothing was published.\n")
    listing = run("catalog", "versions").stdout.splitlines()
    assert listing[0].startswith("2\tdraft\t") and "problem(s)" in listing[0]
    assert listing[1].startswith("1*\tpublished\t") and "\t0 problem(s)\t" in listing[1]
    out = tmp_path / "v2.yaml"
    run("catalog", "download", "--version", "2", "--output", str(out))
    assert out.read_text(encoding="utf-8") == bad.read_text(encoding="utf-8")
    assert "no earlier published version" in run("catalog", "rollback", code=2).stderr
    newer = tmp_path / "newer.yaml"
    newer.write_text(in_every_language(GOOD.replace("Moving in", "Moving")), encoding="utf-8")
    assert run("catalog", "upload", str(newer), "--publish",
               "--note", "new titles").stdout == "Saved version 3 (published).\n"
    assert "Published version 4" in run("catalog", "rollback").stdout
    assert run("catalog", "download").stdout == good.read_text(encoding="utf-8")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text('a: &a ["l","l"]\nb: &b [*a,*a]\n', encoding="utf-8")
    assert f"{bomb}:1: anchors and aliases" in run("catalog", "upload", str(bomb),
                                                   code=1).stdout
    with Session(engine) as session:
        actions = [entry.action for entry in session.exec(select(AuditEntry))]
    engine.dispose()
    assert actions.count("catalog_published") == 3 and actions.count("catalog_saved") == 4
