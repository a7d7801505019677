"""Hot reload: watch the YAML files under the config folder and re-apply the config when they change.

Polls modification times (no extra dependency, works on every file system and in containers). A
change is applied once the files have stayed the same for one more poll, so a half-written file is
not read. An invalid edit is rejected by `reload()` itself (logged; the running config stays).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

CONFIG_SUFFIXES = (".yaml", ".yml")
Snapshot = frozenset[tuple[str, int, int]]


def snapshot(root: Path) -> Snapshot:
    """(path, mtime in ns, size) of every config file under `root`; files that vanish mid-scan are skipped."""
    found = set()
    for path in root.rglob("*"):
        if path.suffix.lower() not in CONFIG_SUFFIXES:
            continue
        try:
            stat = path.stat()
        except OSError:
            continue
        found.add((str(path), stat.st_mtime_ns, stat.st_size))
    return frozenset(found)


async def watch_config(root: Path, reload: Callable[[], object], interval: float = 2.0) -> None:
    """Call `reload()` whenever the config files under `root` changed and then held still; runs until cancelled."""
    applied = previous = await asyncio.to_thread(snapshot, root)
    while True:
        await asyncio.sleep(interval)
        current = await asyncio.to_thread(snapshot, root)
        if current != applied and current == previous:
            log.info("config files under %s changed: reloading", root)
            reload()
            applied = current
        previous = current
