"""The append-only, hash-chained audit log, its verification and per-deployment records."""
