"""Writes and side effects of the tenants app (one module per concern)."""
