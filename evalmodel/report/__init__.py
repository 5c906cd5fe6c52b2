"""evalmodel.report."""
