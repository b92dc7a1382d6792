"""The /api/v1/ routes, one module per area (api/urls.py includes them all)."""
