"""Each tenant's departments and users: DingTalk's directory reads for a tenant (and, later, the
mirror of it)."""
