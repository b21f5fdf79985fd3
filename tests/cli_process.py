"""`frontyard …` in a process of its own, as an operator runs it, without paying for a new
interpreter and its imports each time (~1.5 s of CPU a command, most of the CLI tests' time).

A zygote process imports the CLI once, before any command, and forks one child per command.
The child is a fresh process: its own pid, environment, working directory, standard streams,
exit status and database connections; it shares only modules imported by then, untouched.
What a fork cannot show (that `python -m composition.cli` starts at all) is shown by the tests
that still exec it: a fresh process in tests/test_cli.py, tests/test_backup.py (backup, restore)
and tests/test_pre_entry.py (purge), and every `frontyard serve` of tests/processes.py.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

from frontyard import PROJECT_ROOT

#: What click names the program when it is run as `python -m composition.cli`.
PROG_NAME = "python -m composition.cli"


class _Zygote:
    """The forking process of this test process (one per xdist worker), started on first use."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.cli_process"], cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.lock = threading.Lock()

    def run(self, request: dict[str, Any], timeout: float) -> int:
        """Send one command; its exit status."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        child = json.loads(self.process.stdout.readline())["pid"]
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            os.kill(child, signal.SIGKILL)
            self.process.stdout.readline()
            raise subprocess.TimeoutExpired(request["args"], timeout)
        return int(json.loads(self.process.stdout.readline())["status"])

    def close(self) -> None:
        """Stop the zygote (its children have all been waited for)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


_zygote: _Zygote | None = None


def run_frontyard(*args: str, env: dict[str, str], input: str | None = None,
                  cwd: Path = PROJECT_ROOT, timeout: float = 120
                  ) -> subprocess.CompletedProcess[str]:
    """Like `subprocess.run([python, "-m", "composition.cli", *args], env=env, cwd=cwd,
    input=input, capture_output=True, text=True)`, in a forked child of the zygote."""
    global _zygote
    if _zygote is None or _zygote.process.poll() is not None:
        _zygote = _Zygote()
        atexit.register(_zygote.close)
    with tempfile.TemporaryDirectory(prefix="frontyard-cli-") as folder:
        streams = {name: Path(folder) / name for name in ("stdin", "stdout", "stderr")}
        streams["stdin"].write_text(input or "", encoding="utf-8")
        with _zygote.lock:
            status = _zygote.run({"args": list(args), "env": env, "cwd": str(cwd),
                                  **{name: str(path) for name, path in streams.items()}},
                                 timeout)
        return subprocess.CompletedProcess(
            [sys.executable, "-m", "composition.cli", *args], status,
            streams["stdout"].read_text(encoding="utf-8"),
            streams["stderr"].read_text(encoding="utf-8"))


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the command's process, run it, exit with its status."""
    status = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        written = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        for fd, name, flags in ((0, "stdin", os.O_RDONLY), (1, "stdout", written),
                                (2, "stderr", written)):
            opened = os.open(request[name], flags, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        # New stream objects on the new descriptors, encoded as the interpreter chose at start.
        encoding = sys.__stdout__.encoding if sys.__stdout__ else "utf-8"
        sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding=encoding, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding=encoding, errors="backslashreplace",  # noqa: SIM115
                          closefd=False)
        sys.argv = [PROG_NAME, *request["args"]]
        from composition.cli import main

        try:
            main.main(args=request["args"], prog_name=PROG_NAME)
            status = 0
        except SystemExit as exit:  # as the interpreter turns SystemExit into a status
            if exit.code is None:
                status = 0
            elif isinstance(exit.code, int):
                status = exit.code
            else:
                print(exit.code, file=sys.stderr)
                status = 1
        except BaseException:
            traceback.print_exc()
            status = 1
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def _serve() -> None:
    """The zygote: import the CLI, then fork a child for each request read from stdin."""
    import composition.cli  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)
        _, wait_status = os.waitpid(pid, 0)
        print(json.dumps({"status": os.waitstatus_to_exitcode(wait_status)}), flush=True)


if __name__ == "__main__":
    _serve()
