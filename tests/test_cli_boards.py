"""`frontyard board list / set`, in a fresh process on a fresh database set up with the
existing commands only (office, services, counters, a board device), as IT staff would."""

from __future__ import annotations

from sqlmodel import Session, select

from counter.board_settings import BoardScope, BoardService, BoardSetting
from frontyard import database
from frontyard.audit import AuditEntry
from tests.test_cli_structure import _frontyard


def test_a_board_is_limited_from_the_command_line(tmp_path, migrated):
    """Services, then a zone, then every call; languages in order; each change audited; bad
    input refused with the reason and nothing written."""
    run = _frontyard(tmp_path)
    migrated(tmp_path)
    run("office", "add", "kita", "--name", "ja=北支所")
    run("service", "add", "zei", "--prefix", "Z", "--name", "ja=税")
    run("service", "add", "kokuho", "--prefix", "K", "--name", "ja=国保")
    run("service", "add", "jumin", "--prefix", "J", "--name", "ja=住民")
    run("counter", "add", "1", "--name", "ja=1番", "--zone", "1F")
    run("counter", "add", "7", "--name", "ja=7番", "--zone", "2F")
    run("device", "add", "lobby", "--kind", "board", "--office", "kita")
    run("device", "add", "upstairs", "--kind", "board", "--office", "kita")
    run("device", "add", "entrance", "--kind", "kiosk", "--office", "kita")
    listing = run("board", "list").stdout
    assert "lobby\tkita\tall\tja,en" in listing and "entrance" not in listing
    run("board", "set", "lobby", "--services", "zei,kokuho", "--languages", "en,zh_Hans,ko")
    run("board", "set", "upstairs", "--zone", "2F")
    listing = run("board", "list").stdout
    assert "lobby\tkita\tservices:kokuho,zei\tja,en,zh_Hans,ko" in listing
    assert "upstairs\tkita\tzone:2F\tja,en" in listing

    refused = [
        (["lobby", "--services", "nenkin"], "nenkin: not a service of office kita"),
        (["lobby", "--zone", "9F"], "No counter of office kita is in zone 9F"),
        (["lobby", "--languages", "en,xx"], "Unknown language: xx"),
        (["entrance", "--all"], "no such call board"),
    ]
    for args, reason in refused:
        result = run("board", "set", *args, ok=False)
        assert result.returncode == 2 and reason in result.stderr, (args, result.stderr)
    both = run("board", "set", "lobby", "--all", "--zone", "1F", ok=False)
    assert both.returncode == 2 and "at most one" in both.stderr
    assert "lobby\tkita\tservices:kokuho,zei\tja,en,zh_Hans,ko" in run("board", "list").stdout

    run("board", "set", "lobby", "--all")
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    with Session(engine) as session:
        settings = {row.device_id: row for row in session.exec(select(BoardSetting))}
        links = session.exec(select(BoardService)).all()
        entries = [entry for entry in session.exec(select(AuditEntry))
                   if entry.action == "board_changed"]
    engine.dispose()
    assert sorted(row.scope for row in settings.values()) == [BoardScope.ALL, BoardScope.ZONE]
    assert links == []  # every call again: no service list left behind
    assert len(entries) == 3
    assert entries[-1].detail["before"]["services"] == ["kokuho", "zei"]
    assert entries[-1].detail["after"] == {"scope": "all", "services": [], "zone": "",
                                           "languages": ["en", "zh_Hans", "ko"]}
