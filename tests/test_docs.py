"""Documentation that must keep up with the code."""

from __future__ import annotations

import re

from frontyard import PROJECT_ROOT
from frontyard.settings import Settings


def test_every_setting_is_documented_in_the_readme():
    """Each FRONTYARD_* setting has a row in README's settings table, and no row is stale."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(FRONTYARD_[A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    expected = {f"FRONTYARD_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected
