"""JSAPI tickets (PROTOCOL-ISV 2.1) and a dd.config signature verifier (2.2)."""
