"""Stored calibrations: the evidence a deployment's threshold must rest on before it goes live."""
