"""railwatch.export."""
