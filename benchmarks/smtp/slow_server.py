"""An SMTP server for benchmarks/smtp.sh that answers every command at once except the final "."
of a message, which it answers after DELAY seconds, as a real relay does once it has queued the
message. It keeps nothing.

    python3 benchmarks/smtp/slow_server.py PORT DELAY
"""

import asyncio
import sys


async def session(reader, writer, delay):
    writer.write(b"220 slow.bench ESMTP\r\n")
    in_data = False
    while line := await reader.readline():
        if in_data:
            if line == b".\r\n":
                in_data = False
                await asyncio.sleep(delay)
                writer.write(b"250 2.0.0 Ok: queued\r\n")
            continue
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            writer.write(b"250-slow.bench\r\n250 8BITMIME\r\n")
        elif verb == b"DATA":
            in_data = True
            writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 2.0.0 Bye\r\n")
            await writer.drain()
            break
        else:
            writer.write(b"250 2.0.0 Ok\r\n")
        await writer.drain()
    writer.close()


async def guarded(reader, writer, delay):
    try:
        await session(reader, writer, delay)
    except ConnectionError:
        pass  # smtp-source resets its connections when it is done


async def main(port, delay):
    server = await asyncio.start_server(lambda r, w: guarded(r, w, delay), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))
