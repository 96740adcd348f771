#!/usr/bin/env python3
"""A local stand-in for Lemon Squeezy's Checkouts API, for scripts/test's live stack.

It speaks the documented wire format (JSON:API, POST /v1/checkouts, bearer key; see
shared/reference/external-apis.md) so that Billing's real checkout client runs end to end while
schemathesis drives the public API. Anything malformed gets the provider's own 4xx shapes.

Usage: fake-lemonsqueezy.py PORT API_KEY
"""
import json
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, API_KEY = int(sys.argv[1]), sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the services log what matters
        pass

    def reply(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path != "/v1/checkouts":
            return self.reply(404, {"errors": [{"status": "404", "title": "Not Found"}]})
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self.reply(401, {"errors": [{"status": "401", "title": "Unauthenticated."}]})
        try:
            data = json.loads(raw)["data"]
            attributes = data["attributes"]
            store = data["relationships"]["store"]["data"]["id"]
            variant = data["relationships"]["variant"]["data"]["id"]
        except (ValueError, KeyError, TypeError):
            return self.reply(422, {"errors": [{"status": "422", "detail": "malformed checkout"}]})
        checkout = str(uuid.uuid4())
        self.reply(201, {
            "jsonapi": {"version": "1.0"},
            "links": {"self": f"https://api.lemonsqueezy.com/v1/checkouts/{checkout}"},
            "data": {"type": "checkouts", "id": checkout, "attributes": {
                "store_id": int(store), "variant_id": int(variant), "custom_price": None,
                "checkout_data": attributes.get("checkout_data", {}), "test_mode": True,
                "expires_at": attributes.get("expires_at"),
                "url": f"https://contexo-test.lemonsqueezy.com/checkout/custom/{checkout}?signature=fake",
            }},
        })


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
