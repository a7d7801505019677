"""ceasefire-monitor: poll news sources, find ceasefire stories, alert subscribers once."""

__version__ = "0.1.0"
