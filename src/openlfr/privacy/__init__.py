"""Privacy machinery: encryption at rest, retention, redaction."""
