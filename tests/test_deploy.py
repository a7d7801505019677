"""What the container relies on: the healthcheck asks where the config's `health:` section says."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import health_url
from monitor.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("health", "url"),
    [
        ("", "http://127.0.0.1:9108/healthz"),
        ("health: {port: 9200}", "http://127.0.0.1:9200/healthz"),
        ("health: {host: 0.0.0.0, port: 9201}", "http://127.0.0.1:9201/healthz"),
        ("health: {host: '::', port: 9202}", "http://[::1]:9202/healthz"),
    ],
)
def test_the_healthcheck_follows_health_port(tmp_path: Path, health: str, url: str) -> None:
    assert health_url(write(tmp_path, f"{health}\nsources: []\n")) == url


def test_the_healthcheck_reads_the_health_section_only(tmp_path: Path) -> None:
    assert health_url(write(tmp_path, "health: {port: 9300}\nsources: [{name: broken}]\n")).endswith(":9300/healthz")


@pytest.mark.parametrize("health", ["health: {port: 0}", "health: {enabled: false}", "health: {port: -1}"])
def test_no_fixed_health_address_is_a_config_error(tmp_path: Path, health: str) -> None:
    with pytest.raises(ConfigError, match="health"):
        health_url(write(tmp_path, health))
