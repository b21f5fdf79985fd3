"""The shipped Caddyfile is valid for the Caddy that .ci/run installs."""

from __future__ import annotations

import shutil
import subprocess

from frontyard import PROJECT_ROOT
from tests.conftest import skip_or_fail


def test_caddyfile_validates(tmp_path):
    """`caddy validate` accepts the Caddyfile, with its defaults and with several workers."""
    if shutil.which("caddy") is None:
        skip_or_fail("caddy not installed (apt-get install caddy)")
    for upstreams in ["127.0.0.1:8000", "127.0.0.1:8001 127.0.0.1:8002"]:
        result = subprocess.run(
            ["caddy", "validate", "--config", str(PROJECT_ROOT / "Caddyfile"),
             "--adapter", "caddyfile"],
            capture_output=True, text=True, timeout=60,
            env={"FRONTYARD_HOST": "madoguchi.city.local", "FRONTYARD_UPSTREAMS": upstreams,
                 "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
                 "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
        assert result.returncode == 0, result.stderr
        assert "Valid configuration" in result.stdout + result.stderr
