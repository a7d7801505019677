"""One redaction, one mask: log formatting and the Telegram notifier's records and notices use monitor.logs.redact."""

from __future__ import annotations

import logging

import pytest

from monitor.logs import MASK, protect, redact
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
