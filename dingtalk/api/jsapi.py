"""The JSAPI ticket a page's dd.config is signed with (get_jsapi_ticket)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dingtalk.api._base import Resource, required


@dataclass(frozen=True)
class JsapiTicket:
    """A jsapi_ticket and its lifetime in seconds as DingTalk stated it; repr masks the ticket
    (whoever holds it can sign dd.config for the app)."""

    ticket: str = field(repr=False)
    expires_in: int

    def __repr__(self) -> str:
        return f"JsapiTicket(ticket=***, expires_in={self.expires_in})"


class Jsapi(Resource):
    """`client.jsapi`."""

    def ticket(self) -> JsapiTicket:
        """The app's jsapi_ticket in this corp (per suite and corp for an ISV, per appkey for an
        internal app); cache it: under DingTalk's older behaviour each call replaces it.

        Doc: obtain-jsapi_ticket (get_jsapi_ticket; PROTOCOL-ISV 2.1).
        """
        body = self._get("get_jsapi_ticket")
        ticket = required(body, "ticket", "get_jsapi_ticket")
        return JsapiTicket(ticket=str(ticket), expires_in=_seconds(body.get("expires_in")))


def _seconds(value: object) -> int:
    """expires_in as a positive int; DingTalk's documented 7200 when missing or unreadable."""
    try:
        seconds = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 7200
    return seconds if seconds > 0 else 7200
