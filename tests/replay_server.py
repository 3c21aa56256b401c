"""A real HTTP server on loopback that replays recorded JSON answers, for the metadata clients.

Routes map a path prefix to a queue of answers: (status, body, delay seconds, headers).
The last answer of a queue repeats. Every request is recorded with its time and headers.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


class ReplayServer:
    def __init__(self):
        self.routes: dict[str, list[tuple[int, object, float, dict]]] = {}
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    {
                        "path": self.path,
                        "time": time.monotonic(),
                        "headers": dict(self.headers),
                        "body": body,
                        "method": self.command,
                    }
                )
                for prefix, queue in server.routes.items():
                    if self.path.startswith(prefix):
                        status, payload, delay, headers = (
                            queue.pop(0) if len(queue) > 1 else queue[0]
                        )
                        break
                else:
                    status, payload, delay, headers = 404, {"error": "no route"}, 0.0, {}
                if delay:
                    time.sleep(delay)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def route(self, prefix: str, *answers: tuple) -> None:
        self.routes[prefix] = [a + (0.0, {})[len(a) - 2 :] for a in answers]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def hits(self, prefix: str) -> list[dict]:
        return [r for r in self.requests if r["path"].startswith(prefix)]
