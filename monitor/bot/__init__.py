"""The Telegram bot: command handlers (`handlers`) and application wiring (`app`); alert formatting is the
notifier's (`monitor.notify.telegram_format`)."""
