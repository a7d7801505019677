"""The Telegram notifier's tests (tests/test_telegram_delivery.py) on PostgresStore: collected here again, with that
module's `open_store` opening the test's PostgreSQL database, so a reopened store (a restart) is the same database.
Left out: the upgrade of a SQLite database made before filters."""

from __future__ import annotations

import pytest

from tests import test_telegram_delivery
from tests.postgres import store_on_postgres
from tests.test_telegram_delivery import (  # noqa: F401  (collected here again)
    api,
    store,
    test_a_dead_letter_owed_again_by_redeliver_arrives_once,
    test_a_delivery_failing_while_the_bot_api_answers_is_dead_lettered_and_the_chat_moves_on,
    test_a_gone_chat_is_marked_inactive_and_left_alone,
    test_a_message_telegram_refuses_fails_alone,
    test_a_message_the_bot_api_accepted_is_delivered_once_though_its_answer_is_unreadable,
    test_a_migrated_group_moves_its_subscription_and_gets_the_alert,
    test_a_restart_resumes_what_was_owed,
    test_an_alert_reaches_every_subscribed_active_unmuted_chat_once,
    test_an_outage_longer_than_max_attempts_dead_letters_nothing,
    test_an_outage_loses_nothing_and_the_queue_flows_out_afterwards,
    test_configured_channels_replace_the_previous_configuration,
    test_delivering_the_same_alert_twice_owes_it_once,
    test_digest_chats_get_one_message_per_period,
    test_messages_to_one_chat_arrive_in_alert_order_within_the_limits,
    test_retry_after_is_honoured_and_the_alert_still_arrives,
    test_server_errors_and_timeouts_retry_with_backoff,
    test_text_with_angle_brackets_arrives_as_words,
    test_the_token_never_appears_in_logs,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def on_postgres(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store_on_postgres(monkeypatch, test_telegram_delivery, postgres_url)
