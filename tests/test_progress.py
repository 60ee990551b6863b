"""Long work shows a progress bar on a terminal (stage, count, time left) and nothing elsewhere."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SiteDir

from sitegen.progress import Bar, wanted


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_wanted_only_by_a_person_at_a_terminal() -> None:
    assert wanted(Terminal(), "text", {})
    assert not wanted(Terminal(), "text", {"CI": "true"})
    assert not wanted(Terminal(), "json", {})
    assert not wanted(Terminal(), "github", {})
    assert not wanted(io.StringIO(), "text", {})


def test_the_bar_shows_the_stage_the_count_and_the_time_left() -> None:
    screen = Terminal()
    with Bar(screen, force_terminal=True) as bar:
        bar("rendering and writing pages", 0, 40)
        bar("rendering and writing pages", 12, 40)
        bar.progress.refresh()
        shown = screen.getvalue()
    assert "rendering and writing pages" in shown and "12/40" in shown and "time left" in shown


def _build_on_a_terminal(root: Path, *args: str, env: dict[str, str]) -> tuple[int, str, bool]:
    """`build.py build` with its stderr on a pseudo-terminal: its status, what the terminal showed
    and whether rich was imported."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", "import sys, sitegen.cli as c; r = c.main(sys.argv[1:]); "
                             "print('rich' in sys.modules, file=sys.stdout); sys.exit(r)",
                             "build", "--root", str(root), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=follower, env=env, text=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    out = proc.communicate(timeout=60)[0]
    os.close(leader)
    return proc.wait(), b"".join(chunks).decode("utf-8", "replace"), out.strip().endswith("True")


def test_a_build_on_a_terminal_shows_the_bar_and_in_ci_or_json_stays_quiet(minimal: SiteDir) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"TERM": "xterm", "NO_COLOR": "1"}
    code, shown, rich = _build_on_a_terminal(minimal.root, env=env)
    assert code == 0 and "rendering and writing pages" in shown and "/" in shown and rich
    plain = re.sub(r"\x1b\[[?0-9;]*[A-Za-z]|\r", "", shown)
    assert plain.rstrip().splitlines()[-1].startswith("Built ")  # the bar is gone
    (minimal.root / "site").unlink()
    code, shown, rich = _build_on_a_terminal(minimal.root, env=env | {"CI": "true"})
    assert code == 0 and "rendering" not in shown and shown.startswith("content/") and not rich
    (minimal.root / "site").unlink()
    code, shown, rich = _build_on_a_terminal(minimal.root, "--format", "json", env=env)
    assert code == 0 and shown == "" and not rich
