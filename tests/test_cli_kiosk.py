"""`frontyard kiosk …` and `frontyard branding …` in a fresh process on a fresh database, with
the same rules and audit as the admin's pages."""

from __future__ import annotations

from PIL import Image
from sqlmodel import Session, select

from frontyard import database
from frontyard.audit import AuditEntry
from frontyard.branding import Logo
from kiosk.offer import KioskSettings
from tests.test_cli_structure import _frontyard


def test_kiosk_and_branding_are_set_from_the_command_line(tmp_path, migrated):
    """Languages in order, texts, the city's name and logos; each refusal a clear message."""
    run = _frontyard(tmp_path)
    migrated(tmp_path)
    run("office", "add", "minami", "--name", "ja=南庁舎")
    assert run("kiosk", "languages", "en,ja,vi,pt_BR").stdout == "minami: en, ja, vi, pt_BR\n"
    refused = run("kiosk", "languages", "en,vi", ok=False)
    assert refused.returncode == 2 and "Japanese is always offered." in refused.stderr
    refused = run("kiosk", "welcome", "en=Welcome!", "ja_easy=市役所", ok=False)
    assert "write a reading after each kanji" in refused.stderr
    notice = tmp_path / "notice-en.md"
    notice.write_text("# Privacy\n\nWe keep **nothing** for long.\n", encoding="utf-8")
    run("kiosk", "privacy", "en", str(notice))
    assert run("kiosk", "show").stdout == (
        "languages\ten,ja,vi,pt_BR\nwelcome\t-\nprivacy\ten\n")
    run("branding", "name", "ja=南山市", "en=Minamiyama City")
    logo = tmp_path / "logo.png"
    Image.new("RGB", (300, 100), "teal").save(logo)
    assert run("branding", "logo", str(logo), "--office", "minami").stdout.startswith(
        "image/png 300x100")
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    refused = run("branding", "logo", str(tmp_path / "notes.txt"), ok=False)
    assert refused.returncode == 2 and "Upload a PNG or WebP image." in refused.stderr
    shown = run("branding", "show").stdout
    assert "name\tja\t南山市" in shown and "logo\tminami\timage/png\t300x100" in shown

    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    with Session(engine) as session:
        settings = session.exec(select(KioskSettings)).one()
        logos = session.exec(select(Logo)).all()
        actions = [entry.action for entry in session.exec(select(AuditEntry))]
    engine.dispose()
    assert settings.languages == ["en", "ja", "vi", "pt_BR"]
    assert settings.welcome == {} and settings.privacy["en"].startswith("# Privacy")
    assert len(logos) == 1 and logos[0].office_id is not None
    assert actions.count("kiosk_changed") == 2 and actions.count("logo_changed") == 1
    assert actions.count("city_name_changed") == 1
