"""Published accountability: deployment records (JSON, CSV, printable HTML) and reports."""
