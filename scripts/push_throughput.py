#!/usr/bin/env python3
"""Pushes through a real herald binary to scripts/apns_test_server.py, black box, and prints what the server saw.

    python3 scripts/push_throughput.py REPO_ROOT PATH_TO_HERALD [COUNT=10000]

Starts the APNs test server (a fresh TLS certificate and .p8 key) and `herald serve` on a fresh SQLite file, creates a
tenant with that APNs key, COUNT subscribers each with one APNs device (through the HTTP API, 16 at a time) in one
topic, triggers one event to the topic and times trigger -> the COUNTth request at the server. The last line is JSON:
pushes, verified, seconds, per_second, connections, distinct_jwts, statuses. Loopback only; nothing reaches Apple.
"""
import json, os, subprocess, sys, time, urllib.request, concurrent.futures, secrets, tempfile
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization

REPO = os.path.abspath(sys.argv[1]); BIN = os.path.abspath(sys.argv[2]); N = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
work = tempfile.mkdtemp(prefix="pushbench-")
subprocess.run(["bash", f"{REPO}/scripts/make_test_cert.sh", work], check=True)
key = ec.generate_private_key(ec.SECP256R1())
p8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
open(f"{work}/pub.pem", "wb").write(pub)
apns = subprocess.Popen(["python3", f"{REPO}/scripts/apns_test_server.py", f"{work}/cert.pem", f"{work}/key.pem", "--key-id", "ABC123DEFG",
                         "--team-id", "DEF123GHIJ", "--public-key", f"{work}/pub.pem"], stdout=subprocess.PIPE, text=True)
ready = apns.stdout.readline().split(); h2port, ctl = int(ready[1]), int(ready[2])
env = dict(os.environ, HERALD_PORT="18777", HERALD_ADMIN_KEY="adm", HERALD_DATABASE=f"{work}/h.sqlite", HERALD_ALLOW_PRIVATE_NETWORKS="1",
           HERALD_PUSH_CA_FILE=f"{work}/cert.pem", HERALD_LOG_LEVEL="warning")
herald = subprocess.Popen([BIN, "serve"], env=env, cwd=work, stdout=open(f"{work}/serve.log", "w"), stderr=subprocess.STDOUT)
H = "http://127.0.0.1:18777"
def call(method, path, body=None, key=None):
    req = urllib.request.Request(H + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r: return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e: return e.code, e.read().decode()
for _ in range(100):
    try:
        if urllib.request.urlopen(H + "/healthz").status == 200: break
    except Exception: time.sleep(0.1)
_, t = call("POST", "/v1/tenants", {"name": "Bench"}, "adm"); KEY = t["api_key"]["key"]
print(call("PUT", "/v1/settings/push", {"apns": {"key_id": "ABC123DEFG", "team_id": "DEF123GHIJ", "private_key": p8, "bundle_id": "com.example.herald",
                                           "base_url": f"https://localhost:{h2port}"}}, KEY)[0])
print(call("PUT", "/v1/event-types/ping", {"name": "Ping", "priority": "medium", "channels": ["push"],
      "templates": {"push": {"en": {"title": "Ping {{n}}", "body": "hello"}}}, "parameters": {"n": {"type": "integer"}}}, KEY))
call("PUT", "/v1/topics/all", {"name": "All"}, KEY)
t0 = time.time()
def reg(i):
    s, _ = call("PUT", f"/v1/subscribers/u{i}", {"name": f"U{i}"}, KEY)
    s2, d = call("POST", f"/v1/subscribers/u{i}/devices", {"platform": "apns", "token": secrets.token_hex(32)}, KEY)
    return s2
with concurrent.futures.ThreadPoolExecutor(16) as pool: codes = list(pool.map(reg, range(N)))
print("registered", codes.count(201), "in", round(time.time() - t0, 1), "s")
for start in range(0, N, 5000):
    print(call("POST", "/v1/topics/all/subscribers", {"subscribers": [f"u{i}" for i in range(start, min(N, start + 5000))]}, KEY)[0])
t1 = time.time()
print(call("POST", "/v1/events", {"type": "ping", "recipients": [{"topic": "all"}], "payload": {"n": 1}}, KEY))
while True:
    c = json.load(urllib.request.urlopen(f"http://127.0.0.1:{ctl}/counters"))
    if c["requests"] >= N or time.time() - t1 > 300: break
    time.sleep(0.2)
dt = time.time() - t1
print(json.dumps({"pushes": c["requests"], "verified": c["verified"], "seconds": round(dt, 2), "per_second": round(c["requests"] / dt),
                  "connections": c["connections"], "distinct_jwts": c["distinct_jwts"], "statuses": c["statuses"]}))
herald.terminate(); apns.terminate()
