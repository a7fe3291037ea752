"""Prometheus metrics of one bot process, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram import Update

# Seconds: a dialog step takes milliseconds; a slow one shows in the upper buckets.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def update_type(update: object) -> str:
    """What kind of update it is: message, callback_query, my_chat_member..."""
    if isinstance(update, Update):
        for kind in Update.ALL_TYPES:
            if getattr(update, kind, None) is not None:
                return str(kind)
    return "other"


class Metrics:
    """Counters kept as things happen, and gauges read from the database at each scrape."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.updates = Counter("bot_updates_total", "Updates handled, by type", ["type"],
                               registry=registry)  # fmt: skip
        self.errors = Counter("bot_handler_errors_total", "Updates whose handler failed",
                              registry=registry)  # fmt: skip
        self.latency = Histogram("bot_update_seconds", "Time to handle one update",
                                 buckets=LATENCY_BUCKETS, registry=registry)  # fmt: skip
        self.sent = Counter("bot_messages_sent_total", "Messages sent, replies or queued",
                            ["kind"], registry=registry)  # fmt: skip
        self.too_many = Counter("bot_telegram_429_total", "Requests Telegram refused with 429",
                                registry=registry)  # fmt: skip
        self.blocked = Counter("bot_members_blocked_total", "Messages refused: the member "
                               "blocked the bot", registry=registry)  # fmt: skip
        self.rejected = Counter("bot_webhook_rejected_total", "Webhook requests refused",
                                ["reason"], registry=registry)  # fmt: skip
        self.queue_depth = Gauge("bot_queue_depth", "Queued messages not yet sent",
                                 registry=registry)  # fmt: skip
        self.pending_reviews = Gauge("bot_pending_reviews", "Initiatives waiting for a decision",
                                     registry=registry)  # fmt: skip
        self.lease = Gauge("bot_job_lease_held", "1 when this process runs the jobs and the "
                           "sender", registry=registry)  # fmt: skip

    def handled(self, update: object, seconds: float) -> None:
        """An update was handled."""
        self.updates.labels(update_type(update)).inc()
        self.latency.observe(seconds)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return bytes(generate_latest(self.registry))
