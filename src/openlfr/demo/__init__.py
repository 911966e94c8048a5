"""The one-command demo: demo accounts, a kit watchlist, a live deployment on demo clips."""
