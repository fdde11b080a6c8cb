"""What a middleware needs to ask the app again, or answer instead, after the app failed.

An answer can be replaced only while none of it has been sent (``Watched``); a request asked
again gets its body again (``empty_body_then``: the reads asked again have none).
"""

from __future__ import annotations

from starlette.types import Message, Receive, Send


class Watched:
    """The client's ``send``, noting whether the answer has started (then it cannot be replaced)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


def empty_body_then(receive: Receive) -> Receive:
    """A read asked again: its (empty) body once more, then the client's own messages (a disconnect)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await receive()

    return again
