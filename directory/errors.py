"""What the directory app refuses: every `code` it can answer (DingTalk's own: dingtalk.errors).

Each is a 400: an id, userid, unionid or page that DingTalk would refuse (or that no DingTalk
object could have) is turned away before any call.
"""

from core.errors import ServiceError

__all__ = ["DepartmentIdInvalid", "DirectoryInputInvalid", "LangInvalid", "PageInvalid",
           "UnionidInvalid", "UseridInvalid"]


class DirectoryInputInvalid(ServiceError):
    """The base: a directory read asked with input no DingTalk object matches."""

    code = "directory_input_invalid"


class DepartmentIdInvalid(DirectoryInputInvalid):
    """Not a positive 64-bit integer (DingTalk's department ids are Java longs, root 1)."""

    code = "department_id_invalid"


class UseridInvalid(DirectoryInputInvalid):
    """Empty, longer than DingTalk's 64 characters, not text, or with a NUL."""

    code = "userid_invalid"


class UnionidInvalid(DirectoryInputInvalid):
    """Empty, longer than DingTalk's 100 characters, not text, or with a NUL."""

    code = "unionid_invalid"


class PageInvalid(DirectoryInputInvalid):
    """An offset below 0, a page size outside 1-100, or an order DingTalk does not know."""

    code = "page_invalid"


class LangInvalid(DirectoryInputInvalid):
    """A language other than DingTalk's zh_CN and en_US."""

    code = "lang_invalid"
