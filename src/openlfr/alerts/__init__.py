"""Alerts: the sink interface, fan-out, and the JSON-lines sink."""

from openlfr.alerts.jsonl import JsonLinesSink, alert_to_dict
from openlfr.alerts.sink import AlertSink, CollectingSink, FanOut

__all__ = ["AlertSink", "CollectingSink", "FanOut", "JsonLinesSink", "alert_to_dict"]
