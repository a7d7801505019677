"""The README's first command on a fresh checkout: `python3 run_monitor.py`, run more than once.

Slow (marked `slow`): it copies the checkout to a temporary folder and lets run_monitor.py create
a virtualenv there and install the project into it (pip takes the wheels from its local cache:
some 20-40 s). It runs only the offline demo and check-config, never the service: the shipped
config points at real news sites.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BASE_PYTHON = Path(getattr(sys, "_base_executable", "") or Path(sys.base_prefix) / "bin" / "python3")
INSTALLING = "installing ceasefire-monitor into .venv"


def checkout_copy(dest: Path) -> None:
    """The files git tracks, as they are on disk now (uncommitted edits included)."""
    listed = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    )
    for name in filter(None, listed):
        src = REPO / name
        if src.is_file():  # a file deleted but not yet committed is not on disk
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def base_env() -> dict[str, str]:
    """This machine's environment as a user's shell has it: no virtualenv active, the base python3 first."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    env = {k: v for k, v in env.items() if not k.startswith("MONITOR_")}
    venv_bin = str(Path(sys.prefix) / "bin")
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    env["PATH"] = os.pathsep.join([str(BASE_PYTHON.parent), *path])
    return env


def dist_info(copy: Path) -> list[tuple[str, int]]:
    """The installed project's metadata folders in the copy's .venv, with their times (a reinstall renews them)."""
    found = sorted((copy / ".venv").glob("lib/python*/site-packages/ceasefire_monitor-*.dist-info"))
    return [(p.name, p.stat().st_mtime_ns) for p in found]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_run_monitor_on_a_fresh_checkout_installs_once_then_runs_every_time(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout of the repository (the copy is made of the files git tracks)")
    probe = subprocess.run([BASE_PYTHON, "-c", "import rich"], capture_output=True, env=base_env())
    if probe.returncode == 0:
        pytest.skip(f"{BASE_PYTHON} already has the project's dependencies: it would not show a first run")
    copy = tmp_path / "main"
    checkout_copy(copy)
    assert not (copy / ".venv").exists()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BASE_PYTHON), "run_monitor.py", *args],
            cwd=copy,
            env=base_env(),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=600,
        )

    first = run("--demo")
    assert first.returncode == 0, first.stderr[-3000:]
    assert INSTALLING in first.stderr
    assert "demo: 1 alert(s) on pass 1" in first.stdout
    installed = dist_info(copy)
    assert installed, "the first run installed nothing into the copy's .venv"

    second = run("--demo")
    assert second.returncode == 0, second.stderr[-3000:]
    assert INSTALLING not in second.stderr
    assert "demo: 1 alert(s) on pass 1" in second.stdout
    assert dist_info(copy) == installed  # not reinstalled

    check = run("check-config")
    assert check.returncode == 0, check.stderr[-3000:]
    assert "config/monitor.yaml: OK" in check.stdout
    assert INSTALLING not in check.stderr
    assert dist_info(copy) == installed
