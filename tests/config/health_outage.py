"""Run in a fresh process by test_health: serve /healthz through the WSGI handler while the
database connection passes through a TCP proxy that the script cuts and restores.

Usage: python -m tests.config.health_outage DATABASE_URL_WITHOUT_HOST_PORT UPSTREAM_PORT
Prints one JSON line: the (status, body) of /healthz before, during and after the outage.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import sys
import threading
from typing import Any


class Proxy:
    """Forwards 127.0.0.1:port to the database; stop() drops every connection and the listener."""

    def __init__(self, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen()
        self.listener.settimeout(0.05)
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def stop(self) -> None:
        self.running = False
        self.thread.join()
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass


def healthz(app: Any) -> tuple[int, Any]:
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }
    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()  # request_finished: Django drops a broken connection here
    return int(statuses[0].split()[0]), json.loads(body)


def main() -> None:
    database_prefix, upstream_port = sys.argv[1], int(sys.argv[2])
    proxy = Proxy(upstream_port)
    os.environ["DATABASE_URL"] = database_prefix.replace("PORT", str(proxy.port))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    before = healthz(app)
    proxy.stop()
    during = healthz(app)
    proxy = Proxy(upstream_port, port=proxy.port)
    after = healthz(app)
    proxy.stop()
    print(json.dumps({"before": before, "during": during, "after": after}))


if __name__ == "__main__":
    main()
