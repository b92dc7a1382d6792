"""Who a tenant's users are: SSO (免登) code exchange and the per (corp, userid) user record."""
