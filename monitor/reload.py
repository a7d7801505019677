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


class ConfigWatch:
    """Calls `reload()` whenever the config files under `root` changed and then held still. It starts from the files
    as they are when it is made (just after the config was read), so an edit made before its first look is applied;
    what it last handled outlives a restart of `run`, so a change whose reload crashed is not handled twice."""

    def __init__(self, root: Path, reload: Callable[[], object], interval: float = 2.0) -> None:
        self.root, self.reload, self.interval = root, reload, interval
        self.handled = snapshot(root)

    async def run(self) -> None:
        """Watch until cancelled."""
        previous = self.handled
        while True:
            await asyncio.sleep(self.interval)
            current = await asyncio.to_thread(snapshot, self.root)
            if current != self.handled and current == previous:
                log.info("config files under %s changed: reloading", self.root)
                self.handled = current
                self.reload()
            previous = current
