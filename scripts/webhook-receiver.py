#!/usr/bin/env python3
"""A customer's webhook receiver, for development and tests: HTTPS with a certificate of its own,
checking every delivery's Contexo-Signature the way docs/api.md tells customers to.

    scripts/webhook-receiver.py --port 9443 --control-port 9444 --dir .dev/webhooks

- The receiver (HTTPS, on --port): every POST is recorded with its headers and body, its
  signature checked against the secrets it was given (t=<seconds>,v1=<hex HMAC-SHA256 of
  "<t>.<body>">, any v1 with any secret, t within 5 minutes), and answered 200 when it holds,
  401 when it does not, or the status set with /mode. Repeats of an Idempotency-Key already
  answered 2xx on the same path are marked as duplicates (and answered 200, as a receiver should).
- The certificate: <dir>/cert.pem and <dir>/key.pem for localhost and 127.0.0.1, made with
  openssl on first start. Chat trusts it through CONTEXO_WEBHOOKS_CA_FILE=<dir>/cert.pem.
- The control API (plain HTTP on 127.0.0.1, on --control-port):
    POST /secrets {"secrets": ["whsec_…"]}    the secrets to verify with (add: true keeps the old)
    POST /mode {"status": 500}                 answer every delivery with this status (200: normal)
    GET  /received                             {"deliveries": [...]} as recorded
    POST /reset                                forget what was received
Each delivery is also printed as one JSON line on standard output.
"""
import argparse
import hashlib
import hmac
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.secrets = []
        self.status = 200
        self.deliveries = []
        self.answered = set()


STATE = State()


def verify(header, body, secrets, now=None):
    """True when `header` signs `body` with one of `secrets` at a time within the tolerance."""
    now = time.time() if now is None else now
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value.lower())
    if timestamp is None or abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    message = str(timestamp).encode() + b"." + body
    for secret in secrets:
        expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return True
    return False


def ensure_certificate(directory):
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if not (os.path.exists(cert) and os.path.exists(key)):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", cert, "-days", "365", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def reply(handler, status, payload):
    body = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with STATE.lock:
            verified = verify(self.headers.get("Contexo-Signature"), body, STATE.secrets)
            key = self.headers.get("Idempotency-Key") or ""
            status = STATE.status if STATE.status != 200 else (200 if verified else 401)
            # Each path stands for a receiver of its own: a key repeats only on the same path.
            duplicate = (self.path, key) in STATE.answered
            if 200 <= status < 300:
                STATE.answered.add((self.path, key))
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            record = {
                "path": self.path, "verified": verified, "idempotency_key": key, "duplicate": duplicate,
                "event_type": self.headers.get("Contexo-Event-Type"), "attempt": self.headers.get("Contexo-Attempt"),
                "signature": self.headers.get("Contexo-Signature"), "answered": status, "body": parsed,
                "received_at": time.time(),
            }
            STATE.deliveries.append(record)
        print(json.dumps({k: record[k] for k in ("event_type", "verified", "answered", "duplicate", "idempotency_key")}),
              flush=True)
        reply(self, status, {"received": True} if 200 <= status < 300 else {"error": "refused"})

    def log_message(self, *args):
        pass


class Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        if self.path == "/received":
            with STATE.lock:
                return reply(self, 200, {"deliveries": list(STATE.deliveries)})
        reply(self, 404, {"error": "not found"})

    def do_POST(self):
        payload = self.read_json()
        with STATE.lock:
            if self.path == "/secrets":
                secrets = [s for s in payload.get("secrets", []) if isinstance(s, str)]
                STATE.secrets = (STATE.secrets + secrets) if payload.get("add") else secrets
            elif self.path == "/mode":
                STATE.status = int(payload.get("status", 200))
            elif self.path == "/reset":
                STATE.deliveries.clear()
                STATE.answered.clear()
            else:
                return reply(self, 404, {"error": "not found"})
        reply(self, 200, {"ok": True})

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9443)
    parser.add_argument("--control-port", type=int, default=9444)
    parser.add_argument("--dir", default=".dev/webhooks", help="where the certificate is kept")
    parser.add_argument("--secret", action="append", default=[], help="a secret to verify with (repeatable)")
    arguments = parser.parse_args()
    cert, key = ensure_certificate(arguments.dir)
    STATE.secrets = list(arguments.secret)

    receiver = ThreadingHTTPServer((arguments.host, arguments.port), Receiver)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    receiver.socket = context.wrap_socket(receiver.socket, server_side=True)
    control = ThreadingHTTPServer(("127.0.0.1", arguments.control_port), Control)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(json.dumps({"ready": True, "url": f"https://{arguments.host}:{arguments.port}/",
                      "control": f"http://127.0.0.1:{arguments.control_port}/", "ca_file": os.path.abspath(cert)}),
          flush=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
