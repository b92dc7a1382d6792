"""The /api/v1/ views, one module per area; each view validates, calls one service or selector,
and serializes."""
