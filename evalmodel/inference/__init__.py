"""evalmodel.inference."""
