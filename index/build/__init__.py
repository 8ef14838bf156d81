"""index/build: see docs/architecture.md."""
