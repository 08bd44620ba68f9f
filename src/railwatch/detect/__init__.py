"""railwatch.detect."""
