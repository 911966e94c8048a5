"""Recognition decisions over time: thresholds, agreeing looks and cooldowns, in one place."""

from openlfr.matching.decision import (
    Decision,
    DecisionCounters,
    DecisionEngine,
    DecisionRules,
    rules_from_settings,
)

__all__ = [
    "Decision",
    "DecisionCounters",
    "DecisionEngine",
    "DecisionRules",
    "rules_from_settings",
]
