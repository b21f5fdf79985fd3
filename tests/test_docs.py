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


def test_the_realtime_topics_in_the_docs_are_the_ones_the_code_announces_on():
    """Every hub topic the docs name (`office:<id>`, `office:{office_id}`…) is `topic_of`'s."""
    from counter.topics import topic_of

    prefix = topic_of(12345).removesuffix("12345")
    topic = re.compile(r"[`\"]([a-z_]+:)(?:<[a-z_]+>|\{[a-z_.]+\}|\d+)[`\"]")
    named = {}
    for name in ("queue.md", "realtime.md", "architecture.md"):
        text = (PROJECT_ROOT / "docs" / name).read_text(encoding="utf-8")
        named[name] = set(topic.findall(text))
    assert all(named.values()), named  # each page names the topic at least once
    assert all(found == {prefix} for found in named.values()), named


def test_every_command_is_documented_in_the_readme():
    """Each `frontyard` command (and subcommand) has a row in README's command table."""
    import click

    from composition.cli import main

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(frontyard [a-z][a-z -]*?)(?: [A-Z\[]|`)", readme))

    def names(group: click.Group, prefix: str) -> set[str]:
        found = set()
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                found |= names(command, f"{prefix} {name}")
            else:
                found.add(f"{prefix} {name}")
        return found

    assert names(main, "frontyard") <= documented
