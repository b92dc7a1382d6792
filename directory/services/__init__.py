"""Services of the directory app (one module per concern); the reads are re-exported here, so
`from directory.services import user_get` and `from directory.services.reads import user_get`
name the same function."""

from directory.services.reads import (
    auth_scopes_get,
    department_get,
    department_list,
    department_member_ids,
    department_members_page,
    department_parent_ids,
    department_sub_ids,
    user_count,
    user_get,
    user_parent_paths,
    userid_by_unionid,
)

__all__ = ["auth_scopes_get", "department_get", "department_list", "department_member_ids",
           "department_members_page", "department_parent_ids", "department_sub_ids",
           "user_count", "user_get", "user_parent_paths", "userid_by_unionid"]
