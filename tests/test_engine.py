"""The engine's parts on a real PostgreSQL server, in this process: delivery jobs commit with their alerts, the tick
defers each due source's poll once, at its due time, the store's async calls run on the engine's pool, and the jobs of
a dead process are retried or dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from monitor.cli import main
from monitor.config import load
from monitor.engine import EngineService, Role
from monitor.once import run_once
from monitor.records import Article, Match, SourceState
from monitor.store.postgres_lock import AdvisoryLock
from tests.testdata import write_config

pytestmark = pytest.mark.postgres

HOOK: dict[str, object] = {"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook"}
TELEGRAM: dict[str, object] = {"name": "tg", "kind": "telegram"}  # never started here: no token needed


def _service(tmp_path: Path, url: str, role: Role = "worker", sources: int = 0) -> EngineService:
    config = write_config(tmp_path, [{"name": f"s{n}", "url": f"http://127.0.0.1:9/{n}"} for n in range(sources)],
                          [HOOK, TELEGRAM], storage={"url": url}, schedule={"interval": 60, "jitter": 10})
    return EngineService(load(config), role)


@pytest.fixture
def service(tmp_path: Path, postgres_url: str) -> Iterator[EngineService]:
    engine = _service(tmp_path, postgres_url, "run", sources=3)
    yield engine
    engine.store.close()


@pytest.fixture
async def opened(service: EngineService) -> AsyncIterator[EngineService]:
    async with service.app.open_async():
        yield service


def _alert(service: EngineService, n: int) -> None:
    article = Article(url=f"https://outlet.example/{n}", source="outlet", title="Ceasefire", body="It was violated.")
    match = Match("ceasefire", "ceasefire", ("ceasefire",), "ceasefire", 1.0)
    service.pg.save_article(article, fingerprint=n, kind="new", matches=[match], notifiers=["hook", "tg"])


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def _jobs(url: str) -> list[tuple[Any, ...]]:
    return _rows(url, "SELECT task_name, queue_name, queueing_lock, status FROM procrastinate_jobs ORDER BY id")


def test_a_delivery_job_per_notifier_commits_with_the_alerts_or_not_at_all(service: EngineService,
                                                                         postgres_url: str) -> None:
    with pytest.raises(RuntimeError), service.pg.transaction():
        _alert(service, 1)
        raise RuntimeError("the poll dies before it commits")
    assert _rows(postgres_url, "SELECT COUNT(*) FROM alerts") == [(0,)]
    assert _jobs(postgres_url) == []
    _alert(service, 2)
    _alert(service, 3)  # a delivery job waits already: this alert commits without a second one
    assert _rows(postgres_url, "SELECT COUNT(*) FROM alerts") == [(2,)]
    assert _jobs(postgres_url) == [("monitor.deliver", "deliver", "deliver:hook", "todo"),
                                   ("monitor.deliver", "deliver-main", "deliver:tg", "todo")]  # Telegram: run only


async def test_the_tick_defers_each_due_source_once_spread_over_its_jitter(opened: EngineService,
                                                                          postgres_url: str) -> None:
    now = datetime.now(UTC)
    opened.pg.save_source_state(SourceState("s1", last_fetch=now, next_due=now + timedelta(seconds=60)))
    opened.pg.save_source_state(SourceState("s2", last_fetch=now - timedelta(seconds=61), next_due=now))
    await opened.tick()
    await opened.tick()  # s0 and s2 wait already: nothing more
    jobs = _rows(postgres_url, "SELECT args->>'source', scheduled_at FROM procrastinate_jobs"
                               " WHERE task_name = 'monitor.poll' ORDER BY 1")
    assert [source for source, _ in jobs] == ["s0", "s2"]  # s1 is not due
    first, due = jobs[0][1], jobs[1][1]
    assert now <= first <= now + timedelta(seconds=10) + timedelta(seconds=5)  # never polled: within its jitter
    assert due is None or due <= datetime.now(UTC)


async def test_the_tick_defers_a_poll_due_before_the_next_tick_to_start_at_its_due_time(opened: EngineService,
                                                                                       postgres_url: str) -> None:
    now = datetime.now(UTC)
    soon, overdue = now + timedelta(seconds=0.5), now - timedelta(seconds=5)
    for name, due in (("s0", soon), ("s1", now + timedelta(seconds=30)), ("s2", overdue)):
        opened.pg.save_source_state(SourceState(name, last_fetch=now - timedelta(seconds=60), next_due=due))
    await opened.tick()
    jobs = dict(_rows(postgres_url, "SELECT args->>'source', scheduled_at FROM procrastinate_jobs"
                                    " WHERE task_name = 'monitor.poll'"))
    assert jobs == {"s0": soon, "s2": None}  # s1: a later tick; s2 at once


async def test_the_store_s_async_calls_run_on_the_engine_s_pool_and_join_a_transaction(opened: EngineService) -> None:
    store, pool = opened.pg, opened.connector.pool
    store.async_pool = pool
    now = datetime.now(UTC)
    state = SourceState("s0", etag='"e"', last_fetch=now, next_due=now + timedelta(seconds=60), interval=60.0,
                        interval_reason="steady")
    since = [now - timedelta(hours=1)]
    before = pool.get_stats().get("requests_num", 0)
    await store.save_source_state_async(state)
    assert await store.poll_state_async("s0", since) == (state, [0]) == store.poll_state("s0", since)
    assert await store.poll_state_async("never", since) == (SourceState("never"), [0])
    assert pool.get_stats().get("requests_num", 0) - before == 3
    with pytest.raises(RuntimeError), store.transaction():  # inside a transaction: on its connection, with it
        await store.save_source_state_async(replace(state, etag='"rolled back"'))
        raise RuntimeError
    assert store.source_state("s0") == state


async def test_recover_retries_a_dead_process_s_jobs_or_drops_them_for_a_waiting_one(opened: EngineService,
                                                                                    postgres_url: str) -> None:
    _alert(opened, 1)  # a delivery job for hook and tg
    await opened.tick()  # poll jobs for s0, s1, s2
    with psycopg.connect(postgres_url) as conn:
        dead = conn.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour')"
                            " RETURNING id").fetchone()
        assert dead is not None
        conn.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", dead)  # all of them, running
    _alert(opened, 2)  # hook and tg have a job waiting again, beside the running ones
    await opened.recover()
    assert _rows(postgres_url, "SELECT queueing_lock, status::text FROM procrastinate_jobs ORDER BY 1, 2") \
        == [("deliver:hook", "failed"), ("deliver:hook", "todo"), ("deliver:tg", "failed"), ("deliver:tg", "todo"),
            ("poll:s0", "todo"), ("poll:s1", "todo"), ("poll:s2", "todo")]


def test_check_config_names_the_engine_and_whether_its_schema_is_applied(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)

    def engine(storage: dict[str, object]) -> str:
        assert main(["check-config", "--config", str(write_config(tmp_path, [], storage=storage))]) == 0
        return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("  engine:"))

    assert engine({"path": "db.sqlite3"}) == "  engine: APScheduler in the one `monitor run` process"
    assert "procrastinate 3." in engine({"url": postgres_url}) and "schema not applied yet" in engine(
        {"url": postgres_url})
    _service(tmp_path, postgres_url).store.close()
    assert "its schema applied: `monitor run` and any number of `monitor worker`" in engine({"url": postgres_url})


def test_the_job_fetch_is_never_planned_as_a_sequential_scan(tmp_path: Path, postgres_url: str) -> None:
    """procrastinate's fetch runs with sequential scans off (the engine's second migration): a scan of a bloated jobs
    table per candidate job halved throughput in bench/scale.py."""
    _service(tmp_path, postgres_url).store.close()
    [(config,)] = _rows(postgres_url, "SELECT proconfig FROM pg_proc"
                        " WHERE oid = 'procrastinate_fetch_job_v2(character varying[], bigint)'::regprocedure")
    assert config == ["enable_seqscan=off"]


def test_an_advisory_lock_has_one_holder_and_passes_on_when_its_connection_dies(postgres_url: str) -> None:
    first, second = AdvisoryLock(postgres_url, "monitor:test"), AdvisoryLock(postgres_url, "monitor:test")
    assert first.try_acquire() and first.try_acquire()  # taken, and still held
    assert not second.try_acquire() and not second.held()
    with psycopg.connect(postgres_url, autocommit=True) as admin:  # the holder dies: the server ends its session
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
                      (first.key & 0xFFFFFFFF,))
    assert not first.held()
    assert second.try_acquire()
    second.release()


async def test_monitor_once_leaves_delivery_to_the_engine_while_its_processes_run(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = load(write_config(tmp_path, [], storage={"url": postgres_url, "path": "db.sqlite3"}))  # console
    engine = EngineService(settings, "worker")
    article = Article(url="https://outlet.example/1", source="outlet", title="Ceasefire", body="It was violated.")
    match = Match("ceasefire", "ceasefire", ("ceasefire",), "ceasefire", 1.0)
    engine.pg.save_article(article, fingerprint=1, kind="new", matches=[match], notifiers=["console"])
    engine.store.close()
    owed = "SELECT COUNT(*) FROM outbox WHERE status = 'owed'"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now())")  # a live engine process
        await run_once(settings)
        assert _rows(postgres_url, owed) == [(1,)]  # its delivery job delivers it, not this pass
        conn.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")  # none live
        await run_once(settings)
        assert _rows(postgres_url, owed) == [(0,)]


@pytest.mark.parametrize("role", ["run", "worker"])
def test_no_engine_process_judges_source_health_on_its_own_polls(
    tmp_path: Path, postgres_url: str, role: Role, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each process sees only the polls it makes, and all would keep the same sources' health state: on PostgreSQL
    source health is off in every process (check-config says so), whatever the config asks."""
    engine = _service(tmp_path, postgres_url, role, sources=2)
    try:
        assert load(engine.settings.path).monitor.source_health.enabled  # the config asks for it ...
        assert not engine.settings.monitor.source_health.enabled  # ... the process does not do it
        assert engine.review_sources() == []
    finally:
        engine.store.close()
    assert main(["check-config", "--config", str(engine.settings.path)]) == 0
    assert "source health: off on PostgreSQL" in capsys.readouterr().out
