"""evalmodel.plotting."""
