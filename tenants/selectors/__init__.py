"""Reads of the tenants app (one module per concern)."""
