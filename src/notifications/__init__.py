"""Notifications that leave the building: the outbox's messages, delivered by e-mail and a
signed webhook, at least once, with retries and backoff."""
