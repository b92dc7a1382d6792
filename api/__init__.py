"""The REST API for the ISV's own product (/api/v1/), its keys, and the seed's routes."""
