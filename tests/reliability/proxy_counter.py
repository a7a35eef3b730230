"""A proxy.py plugin for the tests: appends one line per request it carries to `$COUNT_FILE`.

proxy.py's own access log has one line per connection; this sees every request on a kept-alive
connection too (`METHOD host:port path`; for HTTPS, the CONNECT that opens the tunnel).
"""

from __future__ import annotations

import os

from proxy.http.parser import HttpParser
from proxy.http.proxy import HttpProxyBasePlugin


class CountRequests(HttpProxyBasePlugin):
    def handle_client_request(self, request: HttpParser) -> HttpParser:
        host = (request.host or b"-").decode()
        path = (request.path or b"-").decode()
        line = f"{(request.method or b'-').decode()} {host}:{request.port} {path}\n"
        fd = os.open(os.environ["COUNT_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return request
