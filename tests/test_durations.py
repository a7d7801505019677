"""One duration reader for the config and the bot: a bare number is seconds, text is number-unit parts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor import config as config_mod
from monitor.config import FetchConfig, ScheduleConfig
from monitor.durations import EXPECTED, seconds
from monitor.errors import ConfigError
from monitor.fetch import FetchSettings
from tests.testdata import write_config


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


def test_a_config_duration_longer_than_ten_years_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    source = {"name": "slow", "url": "https://news.example/rss", "interval": 1e300}
    path = write_config(tmp_path, [source], schedule={"interval": "99999999w"}, retention={"max_age": "520w"})
    with pytest.raises(ConfigError) as error:
        config_mod.load(path)
    assert str(error.value).splitlines() == [
        f"{path}: schedule.interval: Value error, should be at most 520w (about 10 years) (got '99999999w')",
        f"{path}: sources[0].interval: Value error, should be at most 520w (about 10 years) (got 1e+300)",
    ]  # retention.max_age, 520w, is the longest taken
    assert ScheduleConfig.model_validate({"interval": "520w"}).interval == seconds("520w")


def test_the_fetch_section_is_the_fetchers_settings_plus_source_backoff() -> None:
    config = FetchConfig.model_validate({"connect_timeout": "3s", "per_host": 2, "backoff_base": "1m"})
    assert isinstance(config, FetchSettings) and (config.connect_timeout, config.per_host) == (3, 2)
    assert config.backoff_base == 60 and FetchConfig().max_bytes == FetchSettings().max_bytes
    assert set(FetchConfig.model_fields) - set(FetchSettings.model_fields) == {"backoff_base", "backoff_cap"}
    with pytest.raises(ValidationError, match="per_hots"):
        FetchSettings.model_validate({"per_hots": 2})
