# A key-value store over HTTP/1.0 for the migration tests: PUT /KEY stores the body, GET /KEY
# returns it (404 if absent). The keys live in this process's memory, so they move with it.
import http.server
import sys

store = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_PUT(self):
        store[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
        self.reply(200, b"")

    def do_GET(self):
        body = store.get(self.path)
        self.reply(404, b"") if body is None else self.reply(200, body)

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
