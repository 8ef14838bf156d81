"""index/search: see docs/architecture.md."""
