"""Soak: `monitor run` polls 1,000 loopback sources every 30 s for 10 minutes, 1% of them faulty, with
alerts flowing to the Telegram Bot API stand-in (tests/botapi.py). Prints RSS at start and end, CPU share,
alerts lost (must be 0) and the p95 latency from an item's appearance on the server to its sendMessage.

    python bench/soak.py [--sources 1000] [--interval 30] [--minutes 10] [--alerts-per-minute 20]

The feeds are served by threaded HTTP servers on 50 loopback addresses (127.0.0.2-51, as if 50 hosts),
with ETag, so a quiet feed answers 304. New items appear at random (Poisson) in random sources: a fifth
of them report a ceasefire violation (one alert each), the rest are other news. Faulty sources answer 500,
reset the connection, hang, send a truncated feed or a redirect loop. The service is a separate process
(the monitor's own `run` command), so its RSS and CPU are its own; RSS "start" is read after its first
full cycle. After the run the service gets SIGTERM; alerts still owed are counted as lost.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.botapi import BotApiStandIn  # noqa: E402

HOSTS = [f"127.0.0.{i}" for i in range(2, 52)]
TOKEN = "424242:soak-benchmark-token-not-a-real-one-000"
CHAT = "4242"
FAULTS = ("500", "reset", "hang", "truncated", "loop")
SERVICE = """
import monitor.notify.telegram
from monitor.cli import main
raise SystemExit(main())
"""


@dataclass
class Feed:
    items: list[tuple[str, str, str]] = field(default_factory=list)  # (uid, title, text), newest first
    body: bytes = b""
    etag: str = '"0"'

    def render(self) -> None:
        entries = "".join(
            f"<item><title>{title}</title><link>https://soak.example/{uid}</link><guid>{uid}</guid>"
            f"<description>{text}</description></item>"
            for uid, title, text in self.items[:30]
        )
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>s</title>{entries}</channel></rss>'
        self.body = rss.encode()
        self.etag = '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Farm:
    """The feeds, what appeared when, and the fault of each faulty source."""

    feeds: dict[str, Feed]
    faults: dict[str, str]
    appeared: dict[str, float] = field(default_factory=dict)  # alerting item uid -> wall time it appeared
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def publish(self, rng: random.Random, alerting: bool, name: str | None = None) -> None:
        name = name or rng.choice([n for n in self.feeds if n not in self.faults])
        uid = f"{name}-{rng.getrandbits(40):x}"
        words = " ".join(rng.choice(("north", "south", "river", "hill", "road", "farm", "bridge")) for _ in range(6))
        if alerting:
            title = f"Ceasefire violated near {uid}"
            text = f"Armenia and Azerbaijan accused each other of violating the ceasefire near {uid}, {words}."
        else:
            title, text = f"Market report {uid}", f"Prices of grain rose slightly at the {words} market {uid}."
        with self.lock:
            feed = self.feeds[name]
            feed.items.insert(0, (uid, title, text))
            feed.render()
            if alerting:
                self.appeared[uid] = time.time()


def handler(farm: Farm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            name = self.path.strip("/")
            fault = farm.faults.get(name)
            if fault:
                self._fault(fault)
                return
            with farm.lock:
                feed = farm.feeds.get(name)
                body, etag = (feed.body, feed.etag) if feed else (b"", "")
            if feed is None:
                self._send(404, b"")
            elif self.headers.get("If-None-Match") == etag:
                self._send(304, b"", ETag=etag)
            else:
                self._send(200, body, ETag=etag)

        def _send(self, status: int, body: bytes, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _fault(self, fault: str) -> None:
            if fault == "500":
                self._send(500, b"oops")
            elif fault == "loop":
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif fault == "truncated":
                self._send(200, b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>cut')
            elif fault == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
            else:  # hang
                farm.stopping.wait()
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


def serve(farm: Farm) -> list[ThreadingHTTPServer]:
    servers = []
    for host in HOSTS:
        server = ThreadingHTTPServer((host, 0), handler(farm))
        server.daemon_threads = True
        server.request_queue_size = 256
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers


def write_config(workdir: Path, servers: list[ThreadingHTTPServer], names: list[str], interval: float,
                 base_url: str, port: int) -> Path:
    (workdir / "watchlists").mkdir()
    (workdir / "watchlists" / "ceasefire.yaml").write_text((REPO / "config/watchlists/ceasefire.yaml").read_text())
    sources = []
    for i, name in enumerate(names):
        host, srv_port = servers[i % len(servers)].server_address[:2]
        sources.append({"name": name, "url": f"http://{host!s}:{srv_port}/{name}"})
    config = {
        "storage": {"path": "soak.sqlite3"},
        "schedule": {"interval": interval, "jitter": interval / 2},
        "fetch": {"total_timeout": 20, "read_timeout": 10, "backoff_base": interval},
        "health": {"port": port},
        "reload": {"watch": False},
        "notifiers": [{"name": "telegram", "kind": "telegram", "base_url": base_url,
                       "channels": [{"chat": CHAT, "watchlists": ["ceasefire"]}], "poll_timeout": 1}],
        "sources": sources,
    }
    path = workdir / "monitor.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def proc_stats(pid: int) -> tuple[float, float]:
    """(RSS in MB, user+system CPU seconds) of a process."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between two polls of a source")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--alerts-per-minute", type=float, default=20.0, help="alerting items published per minute")
    parser.add_argument("--faulty", type=float, default=0.01, help="share of faulty sources")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    names = [f"s{i:04d}" for i in range(args.sources)]
    faulty = rng.sample(names, max(1, round(args.sources * args.faulty)))
    farm = Farm({n: Feed() for n in names}, {n: FAULTS[i % len(FAULTS)] for i, n in enumerate(faulty)})
    for name in names:  # every feed starts with a few old, quiet items
        for _ in range(3):
            farm.publish(rng, alerting=False, name=name)
    farm.appeared.clear()
    servers = serve(farm)
    bot = BotApiStandIn(TOKEN, clock=time.time)
    base_url = bot.start()
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    port = free_port()
    config = write_config(workdir, servers, names, args.interval, base_url, port)
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", SERVICE, "--log-level", "WARNING", "run", "--config", str(config)]
    with open(workdir / "service.log", "wb") as log:
        service = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, cwd=workdir)
    print(f"soak: {args.sources} sources ({len(faulty)} faulty) every {args.interval:g} s for {args.minutes:g} min; "
          f"work dir {workdir}", flush=True)
    try:
        time.sleep(args.interval * 1.5)  # the first full cycle (cold: every feed answers 200 once)
        rss_start, cpu_start = proc_stats(service.pid)
        wall_start = time.monotonic()
        end = wall_start + args.minutes * 60
        rate = args.alerts_per_minute / 60 * 5  # items per second, a fifth of them alerting
        while time.monotonic() < end:
            time.sleep(rng.expovariate(rate))
            farm.publish(rng, alerting=rng.random() < 0.2)
            if service.poll() is not None:
                raise SystemExit(f"soak: the service died, see {workdir / 'service.log'}")
        rss_end, cpu_end = proc_stats(service.pid)
        cpu_share = (cpu_end - cpu_start) / (time.monotonic() - wall_start)
        published = dict(farm.appeared)
        deadline = time.monotonic() + args.interval * 2 + 30  # let the last items be polled and sent
        bot.wait_for(lambda: _delivered(bot, published) >= set(published), deadline - time.monotonic())
    finally:
        farm.stopping.set()
        service.send_signal(signal.SIGTERM)
        code: int | None = None
        try:
            code = service.wait(timeout=15)
        except subprocess.TimeoutExpired:
            service.kill()
        bot.stop()
        for server in servers:
            server.shutdown()
    sent = {uid: at for uid, at in _arrivals(bot).items() if uid in published}
    lost = sorted(set(published) - set(sent))
    latencies = sorted(sent[uid] - published[uid] for uid in sent)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    duplicates = bot.stats()["duplicates"]
    print(f"RSS at start (after the first cycle): {rss_start:.0f} MB; at the end: {rss_end:.0f} MB")
    print(f"CPU share of the service: {cpu_share:.1%} of one core")
    print(f"alerting items published: {len(published)}; sendMessage received for {len(sent)}; "
          f"lost: {len(lost)}; duplicates: {duplicates}")
    if latencies:
        print(f"latency appearance -> sendMessage: median {statistics.median(latencies):.1f} s, p95 {p95:.1f} s, "
              f"max {latencies[-1]:.1f} s (polling every {args.interval:g} s with jitter {args.interval / 2:g} s)")
    print(f"breaches of Telegram limits: {len(bot.stats()['breaches'])}; exit code after SIGTERM: {code}")
    return 0 if not lost and code == 0 else 1


def _arrivals(bot: BotApiStandIn) -> dict[str, float]:
    """uid -> time of the first sendMessage that names it."""
    found: dict[str, float] = {}
    for message in bot.messages(CHAT):
        for word in message.text.split():
            uid = word.strip(".,;:()")
            if uid.startswith("s") and "-" in uid and uid not in found:
                found[uid] = message.at
    return found


def _delivered(bot: BotApiStandIn, published: dict[str, float]) -> set[str]:
    return set(_arrivals(bot)) & set(published)


if __name__ == "__main__":
    sys.exit(main())
