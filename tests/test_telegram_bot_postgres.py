"""The Telegram bot's tests (tests/test_telegram_bot.py) on PostgresStore: collected here again, with that module's
`open_store` opening the test's PostgreSQL database."""

from __future__ import annotations

import pytest

from tests import test_telegram_bot
from tests.postgres import store_on_postgres
from tests.test_telegram_bot import (  # noqa: F401  (collected here again)
    api,
    bot,
    test_a_subscriber_query_narrows_the_watch_list_to_articles_that_also_match_it,
    test_digest_sets_the_mode,
    test_filter_sets_clears_and_explains_what_it_cannot_read,
    test_help_lists_commands_and_operators_see_theirs,
    test_in_groups_only_admins_may_change_subscriptions,
    test_list_shows_subscriptions_mute_and_digest,
    test_mute_says_when_it_caps_the_duration,
    test_mute_stops_alerts_until_unmute,
    test_operator_commands_answer_operators,
    test_operator_commands_politely_refuse_everyone_else,
    test_recent_shows_the_last_alerts_of_the_chats_watch_lists,
    test_start_greets_and_registers_the_chat,
    test_stats_count_only_chats_that_follow_something,
    test_subscribe_and_unsubscribe_by_name,
    test_subscribe_without_argument_offers_a_keyboard_with_descriptions,
    test_the_bot_waits_for_an_unreachable_bot_api_then_answers,
    test_watch_list_names_are_matched_ignoring_case,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def on_postgres(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store_on_postgres(monkeypatch, test_telegram_bot, postgres_url)
