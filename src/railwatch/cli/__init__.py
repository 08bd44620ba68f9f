"""railwatch.cli."""
