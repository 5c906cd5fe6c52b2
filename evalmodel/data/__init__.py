"""evalmodel.data."""
