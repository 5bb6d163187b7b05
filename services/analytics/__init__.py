"""Analytics: cascade metrics and nightly dashboards."""
