"""railwatch.sim."""
