"""The app market (PROTOCOL-ISV 3): orders pushed through the control API, and the order
and in-app endpoints."""
