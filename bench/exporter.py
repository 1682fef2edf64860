#!/usr/bin/env python3
"""A /metrics endpoint for make-bench-data.sh's snappy WAL: N series whose
values move every scrape (counters with random increments: 8 random-looking
bytes per sample, the WAL's hard case for snappy). Writes its port to PORT_FILE.

usage: exporter.py SERIES PORT_FILE
"""
import http.server
import random
import sys
import threading

n, port_file = int(sys.argv[1]), sys.argv[2]
r = random.Random(7)
names = [f'metric_{i % 200}{{id="{i}",pod="pod-{r.randrange(1 << 30):x}",instance_group="host-{i % 97}"}}' for i in range(n)]
base = [r.uniform(0, 1e6) for _ in range(n)]
inc = [r.uniform(0, 50) for _ in range(n)]
bodies = []
for k in range(24):
    lines = [f"{nm} {b + k * d:.6f}\n" for nm, b, d in zip(names, base, inc)]
    bodies.append("".join(lines).encode())
count = [0]
lock = threading.Lock()


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with lock:
            k = count[0]
            count[0] += 1
        body = bodies[k % len(bodies)]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(port_file, "w") as f:
    f.write(str(s.server_address[1]))
s.serve_forever()
