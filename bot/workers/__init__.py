"""Background workers: outbox delivery (``bot.workers.delivery``)."""
