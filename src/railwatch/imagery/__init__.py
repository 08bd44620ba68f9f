"""railwatch.imagery."""
