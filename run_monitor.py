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
VENV_PYTHON = HERE / ".venv" / "bin" / "python"


def main() -> int:
    try:
        from monitor.cli import main as monitor_main
    except ImportError:
        if Path(sys.executable).resolve() == VENV_PYTHON.resolve() or os.environ.get("MONITOR_BOOTSTRAPPED"):
            raise
        print("first run: installing ceasefire-monitor into .venv ...", file=sys.stderr)
        subprocess.run([str(HERE / "scripts" / "install.sh")], check=True)
        os.environ["MONITOR_BOOTSTRAPPED"] = "1"
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])
    args = sys.argv[1:]
    if not args or (args[0].startswith("--") and args[0] != "--demo"):
        args = ["run", *args]
    elif args[0] == "--demo":
        args = ["demo", *args[1:]]
    return monitor_main(args)


if __name__ == "__main__":
    sys.exit(main())
