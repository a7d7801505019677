#!/usr/bin/env python3
"""Run the monitor: `python3 run_monitor.py` (service) or `python3 run_monitor.py --demo`.

On a fresh checkout it first installs itself into .venv (scripts/install.sh), then runs there.
Any other arguments go to the `monitor` command, e.g. `python3 run_monitor.py once --dry-run`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
VENV_PYTHON = VENV / "bin" / "python"


def in_venv() -> bool:
    """Whether this interpreter runs in the checkout's .venv.

    `sys.prefix`, not the interpreter's path: .venv/bin/python is a symlink to the base interpreter.
    """
    return Path(sys.prefix).resolve() == VENV.resolve()


def install() -> None:
    subprocess.run([str(HERE / "scripts" / "install.sh")], check=True, env={**os.environ, "VENV": str(VENV)})
    os.environ["MONITOR_BOOTSTRAPPED"] = "1"


def main() -> int:
    try:
        from monitor.cli import main as monitor_main
    except ImportError:
        if os.environ.get("MONITOR_BOOTSTRAPPED"):
            raise  # installed just now, and still missing: a real error
        if in_venv():  # a .venv that an interrupted install left half-made
            print("the monitor does not import in .venv: installing it there again ...", file=sys.stderr)
            install()
        elif not VENV_PYTHON.exists():
            print("first run: installing ceasefire-monitor into .venv ...", file=sys.stderr)
            install()
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])
    args = sys.argv[1:]
    if not args or (args[0].startswith("--") and args[0] != "--demo"):
        args = ["run", *args]
    elif args[0] == "--demo":
        args = ["demo", *args[1:]]
    return monitor_main(args)


if __name__ == "__main__":
    sys.exit(main())
