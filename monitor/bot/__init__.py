"""The Telegram bot: alert formatting (`format`), command handlers (`handlers`), application wiring (`app`)."""
