"""A fast upload sink for the upload benchmark, run as its own process.

It streams the raw request body, skips the multipart headers up to the last part (the file),
hashes the file's bytes (everything before the closing boundary) and answers in Pishkhan's
shape, so storepush's SHA-1 check runs as it does against the real service. It keeps nothing.
"""

from __future__ import annotations

import hashlib
import sys

from aiohttp import web

CHUNK = 1 << 20


async def upload(request: web.Request) -> web.Response:
    ctype = request.headers.get("Content-Type", "")
    boundary = ctype.split("boundary=", 1)[1].strip('"') if "boundary=" in ctype else ""
    closing = f"\r\n--{boundary}--\r\n".encode()
    marker = b'name="apk"'
    head = bytearray()
    digest = hashlib.sha1()
    size = 0
    pending = b""
    in_file = False
    while True:
        chunk = await request.content.read(CHUNK)
        if not chunk:
            break
        if not in_file:
            head += chunk
            at = head.find(marker)
            if at < 0:
                continue
            end = head.find(b"\r\n\r\n", at)
            if end < 0:
                continue
            in_file = True
            chunk = bytes(head[end + 4 :])
        keep = len(closing)  # hold back what may be the closing boundary, without copying
        if len(chunk) >= keep:
            digest.update(pending)
            digest.update(memoryview(chunk)[:-keep])
            size += len(pending) + len(chunk) - keep
            pending = chunk[-keep:]
        else:
            data = pending + chunk
            digest.update(data[:-keep])
            size += max(0, len(data) - keep)
            pending = data[-keep:]
    return web.json_response(
        {
            "type": "success",
            "message": "ok",
            "package": {"apk_size": size, "sha1_hash": digest.hexdigest()},
        }
    )


def main() -> None:
    app = web.Application(client_max_size=1 << 40)
    app.add_routes([web.post("/v1/apps/releases/upload/", upload)])
    web.run_app(
        app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=lambda *_: None
    )


if __name__ == "__main__":
    main()
