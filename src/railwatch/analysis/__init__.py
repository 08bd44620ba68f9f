"""railwatch.analysis."""
