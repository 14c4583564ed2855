"""A recorded Kubernetes API server for tests: serves the JSON lists next to this file
on 127.0.0.1, only to requests with the expected bearer token. Prints its port."""
import http.server, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = sys.argv[1]
LISTS = {name: json.load(open(os.path.join(HERE, name + ".json"))) for name in ("pods", "services", "endpoints")}

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.reply(401, {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401})
        parts = self.path.split("?")[0].strip("/").split("/")
        namespace = None
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 5:
            namespace, resource = parts[3], parts[4]
        elif parts[:2] == ["api", "v1"] and len(parts) == 3:
            resource = parts[2]
        else:
            return self.reply(404, {"kind": "Status", "code": 404})
        if resource not in LISTS:
            return self.reply(404, {"kind": "Status", "code": 404})
        body = dict(LISTS[resource])
        if namespace is not None:
            body["items"] = [i for i in body["items"] if i["metadata"].get("namespace") == namespace]
        self.reply(200, body)

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
