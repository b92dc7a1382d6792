"""identity's part of a tenant's data (tenants/lifecycle.py): the SSO users it has seen, and
any other identity table with a tenant foreign key."""

from tenants.lifecycle import app_part, register

register(app_part("identity", order=100))
