"""`monitor demo`: bundled real feeds and the motivating story, served from loopback, run through the pipeline.

Pass 1 polls everything once; pass 2 polls again after the border story was edited, showing an
"updated" alert for the sentence the edit added.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from monitor import config as config_mod
from monitor.errors import ConfigError

DATA = Path(__file__).parent / "data"
SEED_HOST = "http://www.panarmenian.net"
SEED_PAGES = {
    "/eng/news/escalation-karabakh/": "article.html",
    "/eng/news/border-villages/": "border-v1.html",
    "/eng/news/apricot-festival/": "decoy.html",
}


class StaticSite:
    """A loopback HTTP server for fixed routes, with ETag/If-None-Match like a real web server."""

    def __init__(self, routes: Mapping[str, tuple[bytes, str]]) -> None:
        self.routes = dict(routes)
        self.hits: dict[str, int] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                found = site.routes.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                body, ctype = found
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> StaticSite:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


Routes = dict[str, tuple[bytes, str]]


def seed_routes(base: str, border: str = "border-v1.html", feed_date: str | None = None) -> Routes:
    """The seed feed with its links pointed at `base`, its pages, and two real feed snapshots."""
    feed = (DATA / "feed.xml").read_text(encoding="utf-8").replace(SEED_HOST, base)
    if feed_date:  # the outlet re-dates the edited story in its feed
        feed = feed.replace("Thu, 06 Jul 2017 05:00:00 GMT", feed_date)
    html = "text/html; charset=utf-8"
    routes = {path: ((DATA / name).read_bytes(), html) for path, name in SEED_PAGES.items()}
    routes["/eng/news/border-villages/"] = ((DATA / border).read_bytes(), html)
    routes["/eng/rss/"] = (feed.encode("utf-8"), "application/rss+xml; charset=utf-8")
    for name in ("bd24live.xml", "aljazeera.xml"):
        routes[f"/{name}"] = ((DATA / name).read_bytes(), "application/rss+xml")
    return routes


@contextmanager
def demo_config(base: str, watchlists: Path, workdir: Path) -> Iterator[Path]:
    """Write a config for the demo sources into `workdir`, reusing the operator's watch lists."""
    (workdir / "watchlists").mkdir()
    for file in sorted(watchlists.glob("*.yaml")):
        shutil.copy(file, workdir / "watchlists" / file.name)
    config = {
        "storage": {"path": "demo.sqlite3"},
        "notifiers": [{"name": "console", "kind": "console"}],
        "sources": [
            {"name": "panarmenian", "kind": "feed", "url": f"{base}/eng/rss/", "fetch_article": True,
             "allow_private": True, "language": "en"},
            {"name": "bd24live", "kind": "feed", "url": f"{base}/bd24live.xml", "language": "en"},
            {"name": "aljazeera", "kind": "feed", "url": f"{base}/aljazeera.xml", "language": "en"},
        ],
    }
    path = workdir / "monitor.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    yield path


def run_demo(config_path: str | None = None) -> int:
    """Run the demo; the watch lists come from the operator's config (default config/monitor.yaml)."""
    from monitor.once import run_once

    if config_path is not None and not Path(config_path).is_file():  # a mistyped --config is not the default
        raise ConfigError(f"{config_path}: cannot read: no such file (the demo takes the watch lists beside it)")
    watchlists = config_mod.config_path(config_path).parent / "watchlists"
    if not watchlists.is_dir():
        watchlists = Path(__file__).resolve().parents[2] / "config" / "watchlists"
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp, StaticSite({}) as site:
        site.routes = seed_routes(site.base)
        with demo_config(site.base, watchlists, Path(tmp)) as path:
            settings = config_mod.load(path)
            print(f"demo: serving 3 real feeds and the seed story on {site.base}\n")
            print("== pass 1: every source polled once ==\n")
            first = asyncio.run(run_once(settings))
            site.routes = seed_routes(site.base, "border-v2.html", "Thu, 06 Jul 2017 11:30:00 GMT")
            print("== pass 2: the border story was edited to add a ceasefire violation ==\n")
            second = asyncio.run(run_once(settings))
    print(f"demo: {len(first.alerts)} alert(s) on pass 1, {len(second.alerts)} on pass 2; "
          f"pass 2 re-read only what changed ({second.not_modified} feed(s) answered 304 Not Modified).")
    return 0
