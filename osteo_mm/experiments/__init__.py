"""Multi-run experiment drivers (data-efficiency study)."""
