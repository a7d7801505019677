"""One duration reader for the config and the bot: a bare number is seconds, text is number-unit parts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitor.config import FetchConfig, ScheduleConfig
from monitor.durations import EXPECTED, seconds
from monitor.fetch import FetchSettings


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90", 90), ("2.5", 2.5), ("30s", 30), ("5m", 300), ("2H", 7200), ("1h30m", 5400), ("1h 30m", 5400),
     ("1.5h", 5400), ("2d", 172800), ("1w", 604800), (" 45 s ", 45)],
)
def test_durations_read_as_seconds(text: str, expected: float) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "1h later", "5 minutes", "-5m", "m5", "1y"])
def test_unreadable_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration such as 300 \\(seconds\\)"):
        seconds(text)


def test_a_config_duration_is_seconds_whether_a_number_or_text() -> None:
    schedule = ScheduleConfig.model_validate({"interval": 90, "jitter": "90", "misfire_grace": "1m30s"})
    assert (schedule.interval, schedule.jitter, schedule.misfire_grace) == (90, 90, 90)
    with pytest.raises(ValidationError, match=EXPECTED.replace("(", "\\(").replace(")", "\\)")):
        ScheduleConfig.model_validate({"interval": "often"})


def test_the_fetch_section_is_the_fetchers_settings_plus_source_backoff() -> None:
    config = FetchConfig.model_validate({"connect_timeout": "3s", "per_host": 2, "backoff_base": "1m"})
    assert isinstance(config, FetchSettings) and (config.connect_timeout, config.per_host) == (3, 2)
    assert config.backoff_base == 60 and FetchConfig().max_bytes == FetchSettings().max_bytes
    assert set(FetchConfig.model_fields) - set(FetchSettings.model_fields) == {"backoff_base", "backoff_cap"}
    with pytest.raises(ValidationError, match="per_hots"):
        FetchSettings.model_validate({"per_hots": 2})
