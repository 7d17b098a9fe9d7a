"""The tasks: one folder each, registered in one place."""
