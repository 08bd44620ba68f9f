"""railwatch.storage."""
