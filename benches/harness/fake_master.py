#!/usr/bin/env python3
"""A fake Mesos master for the benchmark: serves one state file on 127.0.0.1.

  fake_master.py PORT STATEFILE [SERVEDLOG]

GET /master/state (and the pre-1.8 /master/state.json) returns the file's
bytes as application/json; anything else is 404. The file is re-read on every
request, so replacing it changes what the next refresh sees. With SERVEDLOG,
each state served appends "<time the file was opened> <time the body was sent>"
(Unix seconds) to it.
"""
import http.server
import sys
import time


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    served = sys.argv[3] if len(sys.argv) > 3 else None

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] not in ("/master/state", "/master/state.json"):
                self.send_error(404)
                return
            opened = time.time()
            with open(path, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            if served:
                with open(served, "a") as f:
                    f.write("%.6f %.6f\n" % (opened, time.time()))

        def log_message(self, fmt, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
