"""One redaction, one mask: log formatting and the Telegram notifier's records and notices use monitor.logs.redact."""

from __future__ import annotations

import io
import logging

import pytest

from monitor.logs import MASK, protect, redact, setup_logging
from monitor.notify import telegram

SHAPED = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def test_a_protected_secret_is_masked_in_every_record_before_any_handler(caplog: pytest.LogCaptureFixture) -> None:
    protect("not-shaped-like-a-token-42")
    caplog.set_level(logging.INFO, logger="monitor.test.redaction")
    logging.getLogger("monitor.test.redaction").info("calling /bot%s/getMe", "not-shaped-like-a-token-42")
    assert caplog.records[-1].getMessage() == f"calling /bot{MASK}/getMe"


def test_token_shapes_and_the_configured_token_get_the_same_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "configured-secret")
    assert redact(f"a {SHAPED} b configured-secret c") == f"a {MASK} b {MASK} c"


def test_the_notifier_has_no_redaction_of_its_own() -> None:
    assert vars(telegram)["redact"] is redact and not hasattr(telegram, "install_redaction")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_credentials_of_a_url_never_reach_the_log(fmt: str) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging("INFO", "json" if fmt == "json" else "text", stream)
        logging.getLogger("monitor.fetch").warning(
            "source feed: fetch of https://reader:s3cr%40t@feeds.example/rss?x=1 failed", extra={"url": "ftp://u:p@h/"}
        )
    finally:
        root.handlers[:], root.level = handlers, level
    out = stream.getvalue()
    assert "s3cr" not in out and "u:p@" not in out
    assert f"https://{MASK}@feeds.example/rss?x=1" in out and f"ftp://{MASK}@h/" in out
    assert redact("mailto:someone@example.org and https://example.org/a:b@c") == (
        "mailto:someone@example.org and https://example.org/a:b@c"  # no user:password there
    )
