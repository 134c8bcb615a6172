"""A small HTTP/1.1 keep-alive client on asyncio.Protocol, for the end-to-end benchmark.

Each Connection carries one request at a time (no pipelining), as a real client would. It only
understands what the gateway and the stand-in send back: a status line, headers and a
Content-Length body (chunked bodies are read as well, for safety). It is deliberately small so
that the load generator costs little CPU on a 2-core machine it shares with the gateway.
"""

import asyncio


class HTTPError(Exception):
    """The peer sent something this client cannot read, or closed the connection."""


class _Protocol(asyncio.Protocol):
    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.waiter = None
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        self._try_complete()

    def connection_lost(self, exc):
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HTTPError(f"connection closed: {exc}"))

    def _try_complete(self):
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if "content-length" in headers:
            length = int(headers["content-length"])
            if len(self.buffer) < start + length:
                return
            body = bytes(self.buffer[start : start + length])
            del self.buffer[: start + length]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body, consumed = _dechunk(self.buffer, start)
            if body is None:
                return
            del self.buffer[:consumed]
        else:
            body = b""
            del self.buffer[:start]
        self.waiter.set_result((status, headers, body))


def _dechunk(buffer, position):
    """The body of a complete chunked message starting at `position`, or (None, 0) if incomplete."""
    body = bytearray()
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None, 0
        size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
        position = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", position)
            if trailer_end < 0:
                return None, 0
            return bytes(body), trailer_end + 2
        if len(buffer) < position + size + 2:
            return None, 0
        body += buffer[position : position + size]
        position += size + 2


class Connection:
    """One keep-alive HTTP/1.1 connection to host:port."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.protocol = None

    async def open(self):
        loop = asyncio.get_running_loop()
        _, self.protocol = await loop.create_connection(_Protocol, self.host, self.port)

    async def request(self, method, path, body=b"", headers=None):
        """Sends one request and returns (status, headers, body)."""
        if self.protocol is None or self.protocol.closed:
            await self.open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        protocol = self.protocol
        protocol.waiter = asyncio.get_running_loop().create_future()
        protocol.transport.write(raw)
        protocol._try_complete()
        return await protocol.waiter

    def close(self):
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.close()
