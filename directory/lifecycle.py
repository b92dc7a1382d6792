"""directory's part of a tenant's data (tenants/lifecycle.py): the mirror's departments, users,
memberships, its sync state and the applied contact-row ids, exported and deleted with the
tenant (every directory model has a tenant foreign key, so app_part covers them all). It deletes
before tenants' own part (order 100 < 1000); a running sync finds its row gone at its next
checkpoint and stops."""

from tenants.lifecycle import app_part, register

register(app_part("directory", order=100))
