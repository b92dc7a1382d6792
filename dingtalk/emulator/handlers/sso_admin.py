"""Admin-console SSO (PROTOCOL-ISV 1.3): /sso/gettoken and /sso/getuserinfo."""
