"""Errcodes the emulator answers with, and their official messages (PROTOCOL section 9)."""

ERRMSG: dict[int, str] = {
    -1: "系统繁忙",
    0: "ok",
    404: "请求的URI地址不存在",
    33012: "无效的USERID",
    34001: "无效的会话id",
    34004: "无效的会话消息的类型",
    34014: "会话消息的json结构无效或不完整",
    34016: "会话消息的内容超长",
    40001: "获取access_token时Secret错误，或者access_token无效",
    40003: "不合法的UserID",
    40004: "不合法的媒体文件类型",
    40005: "不合法的文件类型",
    40006: "不合法的文件大小",
    40009: "不合法的部门id",
    40014: "不合法的access_token",
    40016: "不合法的会话ID",
    40031: "不合法的UserID列表",
    40035: "不合法的参数",
    40056: "不合法的agentid",
    40068: "不合法的偏移量",
    40069: "不合法的分页大小",
    40070: "不合法的排序参数",
    40078: "不存在的临时授权码",
    40079: "不存在的授权信息",
    40080: "不合法的suitesecret",
    40082: "不合法的suitetoken",
    40083: "不合法的suiteid",
    40084: "不合法的永久授权码",
    40085: "不存在的suiteticket",
    40086: "不合法的第三方应用appid",
    40088: "不合法的套件key或secret",
    40089: "不合法的corpid或corpsecret",
    40102: "过期的临时授权码",
    41001: "缺少access_token参数",
    41005: "缺少多媒体文件数据",
    41021: "缺少suitekey参数",
    41022: "缺少suitetoken参数",
    41023: "缺少suiteticket参数",
    41024: "缺少suitesecret参数",
    41025: "缺少permanent_code参数",
    41026: "缺少tmp_auth_code参数",
    41027: "需要授权企业的corpid参数",
    41030: "企业未对该套件授权",
    41031: "auth_corpid和permanent_code不匹配",
    41102: "参数值过大",
    42001: "access_token超时",
    42008: "临时授权码失效",
    42009: "suitetoken失效",
    43001: "需要GET请求",
    43002: "需要POST请求",
    43007: "需要授权",
    43008: "参数需要multipart类型",
    43009: "post参数需要json类型",
    44001: "多媒体文件为空",
    49000: "缺少chatid",
    49004: "添加成员和删除成员有重复",
    49010: "群成员不能为空",
    49011: "群员工列表超长",
    49013: "群主不能为空",
    49015: "不合法的群名称",
    50002: "企业员工不在授权范围",
    50003: "应用已停用",
    50004: "企业部门不在授权范围",
    60003: "部门不存在",
    60011: "没有调用该接口的权限",
    60121: "找不到该用户",
    70004: "企业下没有对应该agentid的微应用",
    90002: "您的服务器调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
    90018: "当前应用调用该接口的并发量超过限制",
    400002: "参数错误",
    853001: "timestamp格式不正确",
    853002: "timestamp与钉钉服务器时间相差超过1分钟",
    853003: "accessKey不是一个有效的应用",
    853004: "签名不匹配，请检查是否进行了urlEncode",
}


def errmsg(errcode: int) -> str:
    return ERRMSG.get(errcode, "系统错误")


class ApiFail(Exception):  # noqa: N818  (a DingTalk answer, not a Python error)
    """Raised by a handler to answer HTTP 200 with errcode != 0."""

    def __init__(self, errcode: int, errmsg_: str | None = None, *, http_status: int = 200,
                 extra: dict | None = None):
        super().__init__(errcode)
        self.errcode = errcode
        self.errmsg = errmsg_ or errmsg(errcode)
        self.http_status = http_status
        self.extra = extra or {}
