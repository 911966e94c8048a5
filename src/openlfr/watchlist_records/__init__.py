"""Watchlist records: versions, subjects, sealed reference images and templates."""
