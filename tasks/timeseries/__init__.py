"""The timeseries task: everything it owns (see its README.md)."""
