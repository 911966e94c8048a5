"""Stored alerts and their adjudication; the database alert sink."""
