"""evalmodel.estimators."""
