"""The DingTalk-shaped refusal a work-notification call can end in."""

from __future__ import annotations

ERRMSG = {
    40007: "不合法的媒体文件id",  # not in PROTOCOL's table; see config.media_id_errcode
    40008: "不合法的消息类型",
    40035: "不合法的参数",
    40056: "不合法的agentid",
    70004: "企业下没有对应该agentid的微应用",
    41028: "禁止给全员发送消息",
    41029: "超过消息接收者人数上限，企业接入为5000，ISV接入为1000",
    41045: "单应用全员消息/每天总量超限",
    41052: "本次发送人数过多,不再返回发送结果",
    60011: "没有调用该接口的权限",
    400002: "参数错误",
    885001: "模板不存在",
}


class NoticeError(Exception):
    """A call error: the HTTP handler renders it as {"errcode", "errmsg"}."""

    def __init__(self, errcode: int, errmsg: str | None = None):
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "不合法的参数")
        super().__init__(f"{errcode} {self.errmsg}")
