"""Writes of the messaging app (one module per concern)."""
