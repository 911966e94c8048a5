"""Telling subscribers about stored alerts: SSE, MQTT and signed webhooks, via a durable outbox."""
