"""A TEST DOUBLE of the Slack Web API, on loopback, that records every call.

Slack is unreachable from here, so alert tests point the `slack` connection's
`base_url` extra at this server. It answers the way Slack does: HTTP 200 with
`{"ok": true, ...}` for `chat.postMessage` and `auth.test` when the bearer token is
the expected one, `{"ok": false, "error": "invalid_auth"}` otherwise, and
`{"ok": false, "error": "unknown_method"}` for methods it does not know. It keeps
each call (method, token, decoded form or JSON body) in `calls`, and appends them
to a JSON-lines file when given one, so a test in another process can read them.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

KNOWN_METHODS = {"chat.postMessage", "auth.test", "files.getUploadURLExternal", "conversations.list"}


class SlackDouble:
    def __init__(
        self,
        token: str = "xoxb-test",  # noqa: S107 (the double's fake token)
        host: str = "127.0.0.1",
        port: int = 0,
        record_to: Path | None = None,
    ):
        self.token = token
        self.calls: list[dict] = []
        self._record_to = record_to
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What to put in the slack connection's `base_url` extra."""
        return f"http://127.0.0.1:{self.port}/api/"

    def messages(self) -> list[dict]:
        with self._lock:
            return [c["body"] for c in self.calls if c["method"] == "chat.postMessage"]

    def _record(self, call: dict) -> None:
        with self._lock:
            self.calls.append(call)
            if self._record_to:
                with self._record_to.open("a") as f:
                    f.write(json.dumps(call) + "\n")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                method = self.path.split("?")[0].rsplit("/", 1)[-1]
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw or "{}")
                else:
                    body = dict(parse_qsl(raw))
                token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip() or body.get("token")
                double._record({"method": method, "token": token, "body": body, "at": time.time()})
                if method not in KNOWN_METHODS:
                    reply = {"ok": False, "error": "unknown_method"}
                elif token != double.token:
                    reply = {"ok": False, "error": "invalid_auth"}
                elif method == "chat.postMessage":
                    reply = {
                        "ok": True,
                        "channel": body.get("channel"),
                        "ts": f"{time.time():.6f}",
                        "message": {"text": body.get("text"), "type": "message"},
                    }
                else:
                    reply = {"ok": True}
                payload = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST  # noqa: N815 (http.server naming; auth.test may come as GET)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def start(self) -> SlackDouble:
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SlackDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=19300)
    parser.add_argument("--token", default="xoxb-local")
    parser.add_argument("--record-to", type=Path, required=True)
    args = parser.parse_args()
    double = SlackDouble(args.token, port=args.port, record_to=args.record_to)
    print(f"slack api test double on {double.base_url}, recording to {args.record_to}", flush=True)
    double._server.serve_forever()


if __name__ == "__main__":
    main()
