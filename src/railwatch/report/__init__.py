"""railwatch.report."""
