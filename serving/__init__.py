"""Serving the pushed model: TF Serving's REST API, versions, and what predict reads."""
