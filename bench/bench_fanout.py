"""Benchmark: fan-out of one alert to N Telegram subscribers (default 10,000) within Telegram's limits.

Runs the Bot API stand-in (tests/botapi.py) in its own process with the real limits enforced
(30 messages/s overall, 1/s per chat, 20/min per group), subscribes N private chats to one watch
list in a real SQLite store, makes one alert through `save_article` and the outbox, and lets the
telegram notifier send it. Prints: messages per second achieved as a ratio of the 30/s cap (the
reference: no sender may exceed it; target >= 0.95), lost, duplicates and limit breaches (all
target 0), and the time the fan-out transaction took.

    python bench/bench_fanout.py [--subscribers 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.notify import drain
from tests.telegram_support import NOTIFIER, TOKEN, EitherStore, make_alert, notifier_for, open_store

CAP = 30.0
TARGET = 0.95


def stand_in() -> tuple[subprocess.Popen[str], str]:
    """Start the stand-in in a child process; return it and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.botapi", "--token", TOKEN],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def stats(base_url: str) -> dict[str, Any]:
    url = base_url.rsplit("/bot", 1)[0] + "/_stats"
    with urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b"")) as response:
        return dict(json.loads(response.read()))


def subscribe_all(store: EitherStore, count: int) -> None:
    now = datetime.now(UTC)
    with store.transaction():
        for chat in range(1, count + 1):
            store.register_chat(str(chat), "private", f"user{chat}", now)
            store.subscribe(str(chat), "ceasefire", now)


async def run(count: int, base_url: str, folder: Path) -> dict[str, Any]:
    store = open_store(folder / "monitor.sqlite3")
    subscribe_all(store, count)
    notifier = notifier_for(store, base_url, timeout=10.0, backoff_base=1.0, backoff_cap=30.0)
    await notifier.start()
    try:
        make_alert(store, title="Ceasefire announced")
        started = time.perf_counter()
        await drain(store, notifier)
        fan_out = time.perf_counter() - started
        last, last_change = -1, time.monotonic()
        while (figures := stats(base_url))["chats"] < count:
            if figures["sent"] != last:
                last, last_change = figures["sent"], time.monotonic()
                if sys.stdout.isatty():
                    print(f"  {last:>6} sent", end="\r", flush=True)
            elif time.monotonic() - last_change > 60:
                print("\nno progress for 60 s: giving up")
                break
            await asyncio.sleep(0.5)
        print()
        await asyncio.sleep(1.0)  # anything sent twice would arrive now
        figures = stats(base_url)
        figures["fan_out"] = fan_out
        figures["owed"] = store.telegram_stats(NOTIFIER).owed
    finally:
        await notifier.stop()
        store.close()
    return figures


def report(count: int, figures: dict[str, Any]) -> bool:
    span = (figures["last"] or 0) - (figures["first"] or 0)
    rate = (figures["sent"] - 1) / span if span > 0 else 0.0
    ratio = rate / CAP
    lost = count - figures["chats"]
    print(f"fan-out of one alert to {count} subscribers through the Bot API stand-in (limits enforced)")
    print(f"  fan-out transaction:  {figures['fan_out'] * 1000:.0f} ms ({count} delivery rows)")
    print(f"  messages sent:        {figures['sent']} over {span:.1f} s (server clock)")
    print(f"  rate:                 {rate:.2f} msg/s = {ratio:.3f} of the {CAP:.0f}/s cap (target >= {TARGET})")
    print(f"  lost:                 {lost}")
    print(f"  duplicates:           {figures['duplicates']}")
    print(f"  limit breaches:       {len(figures['breaches'])}")
    print(f"  still owed in store:  {figures['owed']}")
    for breach in figures["breaches"][:5]:
        print(f"    {breach}")
    return ratio >= TARGET and lost == 0 and figures["duplicates"] == 0 and not figures["breaches"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    args = parser.parse_args()
    proc, base_url = stand_in()
    try:
        with tempfile.TemporaryDirectory() as folder:
            figures = asyncio.run(run(args.subscribers, base_url, Path(folder)))
    finally:
        proc.terminate()
        proc.wait()
    ok = report(args.subscribers, figures)
    print("verdict:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
