#!/usr/bin/env python3
"""A local stand-in for Lemon Squeezy, for scripts/dev and scripts/test's live stack.

It speaks the documented wire formats (shared/reference/external-apis.md section 1 and
supabase-auth-and-account-apis.md section B): the Checkouts API (POST /v1/checkouts, JSON:API,
bearer key), subscriptions (GET and DELETE /v1/subscriptions/{id}), and webhooks signed with
HMAC-SHA256 (X-Signature, X-Event-Name) posted to --webhook-url, as the real provider does.

What a customer sees, offline:
  GET  /checkout/{id}         the hosted checkout: the plan or pack, a "Pay (test mode)" button
  POST /checkout/{id}/pay     pays: order_created (+ subscription_created and
                              subscription_payment_success for a plan) are delivered
  GET  /billing?customer=ID   the customer portal: subscriptions, with Cancel and Resume
What a developer can do (scripts/dev billing):
  POST /__dev/trigger {"event": NAME, "customer": ID}   sends NAME for that customer's newest
                              subscription or order, changing the stand-in's state as the real
                              event would (updated, cancelled, resumed, expired, paused, unpaused,
                              payment_success, payment_failed, payment_refunded, order_refunded)
  GET  /__dev/state           everything the stand-in holds

Usage: fake-lemonsqueezy.py --port PORT --api-key KEY [--webhook-url URL --webhook-secret SECRET]
                            [--catalog config/plans.json] [--public-url URL] [--store-id ID]
       fake-lemonsqueezy.py PORT API_KEY       (checkouts only, no webhooks: the fuzzer's stack)
"""
import argparse
import hashlib
import hmac
import html
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def stamp(moment=None):
    return (moment or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class State:
    """Checkouts, orders and subscriptions, in memory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checkouts = {}      # id -> {variant, custom, expires_at, paid_order}
        self.orders = {}         # id -> attributes (+ custom)
        self.subscriptions = {}  # id -> attributes (+ custom)
        # Ids keep growing across restarts (scripts/dev keeps its database): tenths of a second.
        self.next_id = int(time.time() * 10) % 1_000_000_000_000
        self.deliveries = []     # (event, status) of every webhook sent

    def new_id(self):
        self.next_id += 1
        return self.next_id


class Catalog:
    """Plan and pack names and prices for the pages (from config/plans.json when given)."""

    def __init__(self, path):
        self.products = {}
        if not path:
            return
        with open(path) as handle:
            catalog = json.load(handle)
        for plan in catalog.get("plans", []):
            for index, variant in enumerate(plan.get("variant_ids", [])):
                yearly = index % 2 == 1
                self.products[int(variant)] = {
                    "kind": "plan", "name": plan["name"] + (" (yearly)" if yearly else " (monthly)"),
                    "price": 2900 * (10 if yearly else 1), "limits": plan.get("limits", {})}
        for pack in catalog.get("credit_packs", []):
            self.products[int(pack["variant_id"])] = {"kind": "credits", "name": pack["name"], "price": 1900,
                                                      "credits": pack.get("credits")}

    def product(self, variant):
        return self.products.get(int(variant), {"kind": "plan", "name": f"Variant {variant}", "price": 2900})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the services log what matters
        pass

    @property
    def config(self):
        return self.server.config

    @property
    def state(self):
        return self.server.state

    # --- replies --------------------------------------------------------------------------------
    def reply(self, status, document, content_type="application/vnd.api+json"):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def page(self, status, title, inner):
        body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1f2937}}
.box{{border:1px solid #d1d5db;border-radius:.75rem;padding:1.5rem}} .test{{background:#fef3c7;padding:.5rem .75rem;border-radius:.5rem}}
button{{font:inherit;padding:.6rem 1.2rem;border-radius:.5rem;border:0;background:#7c3aed;color:#fff;cursor:pointer}}
button.secondary{{background:#e5e7eb;color:#111827}} table{{width:100%;border-collapse:collapse}} td{{padding:.3rem 0}}</style>
</head><body><p class="test">Lemon Squeezy stand-in, <strong>test mode</strong>: no money moves.</p>
<div class="box">{inner}</div></body></html>""".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def errors(self, status, detail):
        self.reply(status, {"errors": [{"status": str(status), "title": self.responses.get(status, ("",))[0],
                                        "detail": detail}]})

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def authorized(self):
        if self.headers.get("Authorization") != f"Bearer {self.config.api_key}":
            self.errors(401, "Unauthenticated.")
            return False
        return True

    # --- routing --------------------------------------------------------------------------------
    def do_GET(self):
        self.read_body()
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        if path.startswith("/checkout/"):
            return self.checkout_page(path[len("/checkout/"):])
        if path == "/billing":
            return self.portal((query.get("customer") or [""])[0])
        if path.startswith("/v1/subscriptions/"):
            return self.get_subscription(path[len("/v1/subscriptions/"):])
        if path == "/__dev/state":
            with self.state.lock:
                return self.reply(200, {"checkouts": self.state.checkouts, "orders": self.state.orders,
                                        "subscriptions": self.state.subscriptions,
                                        "deliveries": self.state.deliveries}, "application/json")
        self.errors(404, "Not Found")

    def do_POST(self):
        raw = self.read_body()
        path = urlsplit(self.path).path
        if path == "/v1/checkouts":
            return self.create_checkout(raw)
        if path.startswith("/checkout/") and path.endswith("/pay"):
            return self.pay(path[len("/checkout/"):-len("/pay")])
        if path.startswith("/billing/") and path.count("/") == 3:
            _, _, subscription, action = path.split("/")
            return self.portal_action(subscription, action)
        if path == "/__dev/trigger":
            return self.trigger(raw)
        self.errors(404, "Not Found")

    def do_DELETE(self):
        self.read_body()
        path = urlsplit(self.path).path
        if path.startswith("/v1/subscriptions/"):
            return self.cancel_subscription(path[len("/v1/subscriptions/"):])
        self.errors(404, "Not Found")

    # --- the API ----------------------------------------------------------------------------------
    def create_checkout(self, raw):
        if not self.authorized():
            return
        if self.headers.get("Accept") != "application/vnd.api+json" or \
                self.headers.get("Content-Type") != "application/vnd.api+json":
            return self.errors(415, "Unsupported Media Type")
        try:
            data = json.loads(raw)["data"]
            attributes = data["attributes"]
            store = data["relationships"]["store"]["data"]["id"]
            variant = data["relationships"]["variant"]["data"]["id"]
        except (ValueError, KeyError, TypeError):
            return self.errors(422, "malformed checkout")
        checkout = str(uuid.uuid4())
        custom = (attributes.get("checkout_data") or {}).get("custom") or {}
        redirect = (attributes.get("product_options") or {}).get("redirect_url")
        with self.state.lock:
            self.state.checkouts[checkout] = {"variant": int(variant), "custom": custom, "paid_order": None,
                                              "expires_at": attributes.get("expires_at"), "redirect_url": redirect}
        self.reply(201, {
            "jsonapi": {"version": "1.0"},
            "links": {"self": f"https://api.lemonsqueezy.com/v1/checkouts/{checkout}"},
            "data": {"type": "checkouts", "id": checkout, "attributes": {
                "store_id": int(store), "variant_id": int(variant), "custom_price": None,
                "checkout_data": attributes.get("checkout_data", {}), "test_mode": True,
                "expires_at": attributes.get("expires_at"),
                "url": f"{self.config.public_url}/checkout/{checkout}",
            }},
        })

    def subscription_document(self, subscription_id, attributes):
        shown = {k: v for k, v in attributes.items() if k != "custom"}
        return {"jsonapi": {"version": "1.0"},
                "links": {"self": f"https://api.lemonsqueezy.com/v1/subscriptions/{subscription_id}"},
                "data": {"type": "subscriptions", "id": str(subscription_id), "attributes": shown}}

    def get_subscription(self, raw_id):
        if not self.authorized():
            return
        with self.state.lock:
            subscription = self.state.subscriptions.get(raw_id)
            if not subscription:
                return self.errors(404, "Not Found")
            document = self.subscription_document(raw_id, subscription)
        self.reply(200, document)

    def cancel_subscription(self, raw_id):
        if not self.authorized():
            return
        with self.state.lock:
            subscription = self.state.subscriptions.get(raw_id)
            if not subscription:
                return self.errors(404, "Not Found")
            self.change(subscription, "cancelled")
            document = self.subscription_document(raw_id, subscription)
        self.reply(200, document)
        self.deliver("subscription_cancelled", "subscriptions", raw_id)

    # --- pages ------------------------------------------------------------------------------------
    def checkout_page(self, checkout_id):
        with self.state.lock:
            checkout = self.state.checkouts.get(checkout_id)
        if not checkout:
            return self.page(404, "Checkout not found", "<h1>This checkout does not exist</h1>")
        product = self.server.catalog.product(checkout["variant"])
        price = f"${product['price'] / 100:.2f}" + (" / period" if product["kind"] == "plan" else "")
        if checkout["paid_order"]:
            return self.paid_page(checkout)
        detail = ""
        if product["kind"] == "plan" and product.get("limits"):
            limits = product["limits"]
            detail = (f"<p>{limits.get('widgets')} widgets, {limits.get('messages_per_month')} messages a month, "
                      f"{limits.get('knowledge_bytes', 0) // 1_000_000} MB of documents.</p>")
        self.page(200, "Checkout", f"""<h1>{html.escape(product['name'])}</h1>{detail}
<p>Total: <strong>{price}</strong></p>
<form method="post" action="/checkout/{html.escape(checkout_id)}/pay"><button type="submit">Pay (test mode)</button></form>""")

    def paid_page(self, checkout):
        back = checkout.get("redirect_url") or self.config.return_url
        link = f'<p><a href="{html.escape(back)}">Back to Contexo</a></p>' if back else ""
        self.page(200, "Paid", f"<h1>Thank you!</h1><p>Order {checkout['paid_order']} is paid (test mode). "
                               f"Your plan changes in a moment.</p>{link}")

    def portal(self, customer):
        with self.state.lock:
            mine = [(sid, s) for sid, s in self.state.subscriptions.items()
                    if s.get("custom", {}).get("user_id") == customer]
        rows = "".join(
            f"<tr><td>{html.escape(s['variant_name'])}</td><td>{html.escape(s['status_formatted'])}</td><td>"
            f"<form method='post' action='/billing/{sid}/{'resume' if s['status'] == 'cancelled' else 'cancel'}'>"
            f"<button class='secondary'>{'Resume' if s['status'] == 'cancelled' else 'Cancel'}</button></form></td></tr>"
            for sid, s in mine if s["status"] != "expired")
        self.page(200, "Billing", "<h1>Your subscriptions</h1>" +
                  (f"<table>{rows}</table>" if rows else "<p>No active subscription.</p>"))

    def portal_action(self, subscription_id, action):
        with self.state.lock:
            subscription = self.state.subscriptions.get(subscription_id)
            if not subscription or action not in ("cancel", "resume"):
                return self.page(404, "Not found", "<h1>No such subscription</h1>")
            self.change(subscription, "cancelled" if action == "cancel" else "active")
            customer = subscription.get("custom", {}).get("user_id", "")
        self.deliver("subscription_cancelled" if action == "cancel" else "subscription_resumed", "subscriptions",
                     subscription_id)
        self.send_response(303)
        self.send_header("Location", f"/billing?customer={customer}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    # --- payments -----------------------------------------------------------------------------------
    def pay(self, checkout_id):
        with self.state.lock:
            checkout = self.state.checkouts.get(checkout_id)
            if not checkout:
                return self.page(404, "Checkout not found", "<h1>This checkout does not exist</h1>")
            if checkout["paid_order"]:
                return self.paid_page(checkout)
            product = self.server.catalog.product(checkout["variant"])
            now = datetime.now(timezone.utc)
            order_id = self.state.new_id()
            checkout["paid_order"] = order_id
            self.state.orders[str(order_id)] = {
                "store_id": int(self.config.store_id), "customer_id": 5555081, "identifier": str(uuid.uuid4()),
                "order_number": order_id % 100_000, "user_name": "Test Customer", "user_email": "customer@example.com",
                "currency": "USD", "currency_rate": "1.0000", "subtotal": product["price"], "discount_total": 0,
                "tax": 0, "total": product["price"], "status": "paid", "status_formatted": "Paid", "refunded": False,
                "refunded_at": None, "refunded_amount": 0,
                "first_order_item": {"id": order_id + 1, "order_id": order_id, "product_id": 301200,
                                     "variant_id": checkout["variant"], "product_name": "Contexo",
                                     "variant_name": product["name"], "price": product["price"],
                                     "created_at": stamp(now), "updated_at": stamp(now), "test_mode": True},
                "urls": {"receipt": f"{self.config.public_url}/receipt/{order_id}"},
                "created_at": stamp(now), "updated_at": stamp(now), "test_mode": True, "custom": checkout["custom"]}
            subscription_id = None
            if product["kind"] == "plan":
                subscription_id = str(self.state.new_id())
                customer = checkout["custom"].get("user_id", "")
                self.state.subscriptions[subscription_id] = {
                    "store_id": int(self.config.store_id), "customer_id": 5555081, "order_id": order_id,
                    "order_item_id": order_id + 1, "product_id": 301122, "variant_id": checkout["variant"],
                    "product_name": "Contexo", "variant_name": product["name"], "user_name": "Test Customer",
                    "user_email": "customer@example.com", "status": "active", "status_formatted": "Active",
                    "card_brand": "visa", "card_last_four": "4242", "pause": None, "cancelled": False,
                    "trial_ends_at": None, "billing_anchor": now.day,
                    "urls": {"update_payment_method": f"{self.config.public_url}/billing?customer={customer}",
                             "customer_portal": f"{self.config.public_url}/billing?customer={customer}"},
                    "renews_at": stamp(now + timedelta(days=30)), "ends_at": None,
                    "created_at": stamp(now), "updated_at": stamp(now), "test_mode": True, "custom": checkout["custom"]}
        self.deliver("order_created", "orders", str(order_id))
        if subscription_id:
            self.deliver("subscription_created", "subscriptions", subscription_id)
            self.deliver("subscription_payment_success", "subscription-invoices", subscription_id)
        with self.state.lock:
            checkout = self.state.checkouts[checkout_id]
        self.paid_page(checkout)

    def change(self, subscription, status):
        """Moves a subscription (caller holds the lock) the way the provider would."""
        now = datetime.now(timezone.utc)
        subscription["status"] = status
        subscription["status_formatted"] = status.replace("_", " ").title()
        subscription["cancelled"] = status == "cancelled"
        if status == "cancelled":
            subscription["ends_at"] = subscription.get("renews_at") or stamp(now + timedelta(days=30))
        elif status == "expired":
            subscription["ends_at"] = stamp(now)
        elif status == "active":
            subscription["ends_at"] = None
        subscription["updated_at"] = stamp(now)

    def trigger(self, raw):
        try:
            request = json.loads(raw or b"{}")
            event, customer = request["event"], request["customer"]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": 'send {"event": NAME, "customer": ID}'}, "application/json")
        moves = {"subscription_updated": None, "subscription_cancelled": "cancelled", "subscription_resumed": "active",
                 "subscription_expired": "expired", "subscription_paused": "paused", "subscription_unpaused": "active"}
        invoices = {"subscription_payment_success", "subscription_payment_failed", "subscription_payment_recovered",
                    "subscription_payment_refunded"}
        with self.state.lock:
            subscriptions = [(sid, s) for sid, s in self.state.subscriptions.items()
                             if s.get("custom", {}).get("user_id") == customer]
            orders = [(oid, o) for oid, o in self.state.orders.items() if o.get("custom", {}).get("user_id") == customer]
            if event in moves or event in invoices:
                if not subscriptions:
                    return self.reply(404, {"error": f"customer {customer} has no subscription here; "
                                                     "start one with a checkout first"}, "application/json")
                sid, subscription = subscriptions[-1]
                if moves.get(event):
                    self.change(subscription, moves[event])
                if event == "subscription_payment_failed":
                    self.change(subscription, "past_due")
                target = ("subscriptions", sid) if event in moves else ("subscription-invoices", sid)
            elif event == "order_refunded":
                if not orders:
                    return self.reply(404, {"error": f"customer {customer} has no order here"}, "application/json")
                oid, order = orders[-1]
                order.update(status="refunded", status_formatted="Refunded", refunded=True,
                             refunded_at=stamp(), refunded_amount=order["total"], updated_at=stamp())
                target = ("orders", oid)
            else:
                return self.reply(422, {"error": f"unsupported event {event}"}, "application/json")
        status = self.deliver(event, *target)
        if event == "subscription_payment_failed":
            self.deliver("subscription_updated", "subscriptions", target[1])
        self.reply(200, {"event": event, "object": target[1], "delivered": status}, "application/json")

    # --- webhooks -----------------------------------------------------------------------------------
    def deliver(self, event, data_type, object_id):
        """Signs and posts one webhook; returns the receiver's status (0 when unreachable)."""
        if not self.config.webhook_url:
            return 0
        with self.state.lock:
            if data_type == "subscription-invoices":
                subscription = self.state.subscriptions[object_id]
                now = stamp()
                refunded = event == "subscription_payment_refunded"
                attributes = {
                    "store_id": subscription["store_id"], "subscription_id": int(object_id),
                    "customer_id": subscription["customer_id"], "user_name": subscription["user_name"],
                    "user_email": subscription["user_email"], "billing_reason": "renewal", "card_brand": "visa",
                    "card_last_four": "4242", "currency": "USD", "currency_rate": "1.0000",
                    "status": {"subscription_payment_failed": "pending"}.get(event, "refunded" if refunded else "paid"),
                    "status_formatted": "Refunded" if refunded else "Paid", "refunded": refunded,
                    "refunded_at": now if refunded else None, "subtotal": 2900, "discount_total": 0, "tax": 0,
                    "total": 2900, "refunded_amount": 2900 if refunded else 0,
                    "urls": {"invoice_url": f"{self.config.public_url}/invoice/{object_id}"},
                    "created_at": now, "updated_at": now, "test_mode": True}
                custom = subscription.get("custom", {})
                invoice_id = str(self.state.new_id())
                object_id = invoice_id
            else:
                record = (self.state.orders if data_type == "orders" else self.state.subscriptions)[object_id]
                attributes = {k: v for k, v in record.items() if k != "custom"}
                custom = record.get("custom", {})
        meta = {"test_mode": True, "event_name": event, "webhook_id": str(uuid.uuid4())}
        if custom:
            meta["custom_data"] = custom
        body = json.dumps({"meta": meta, "data": {
            "type": data_type, "id": object_id, "attributes": attributes, "relationships": {},
            "links": {"self": f"https://api.lemonsqueezy.com/v1/{data_type}/{object_id}"}}}).encode()
        signature = hmac.new(self.config.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(self.config.webhook_url, data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Event-Name": event, "X-Signature": signature})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        with self.state.lock:
            self.state.deliveries.append({"event": event, "object": object_id, "status": status})
        print(f"webhook {event} {data_type}/{object_id} -> {status}", flush=True)
        return status


def main():
    if len(sys.argv) == 3 and not sys.argv[1].startswith("-"):
        sys.argv = [sys.argv[0], "--port", sys.argv[1], "--api-key", sys.argv[2]]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--store-id", default="162893")
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret", default="")
    parser.add_argument("--catalog")
    parser.add_argument("--public-url")
    parser.add_argument("--return-url", default="", help="where the paid page links back to")
    config = parser.parse_args()
    if config.webhook_url and not 6 <= len(config.webhook_secret) <= 40:
        parser.error("--webhook-secret must be 6 to 40 characters (Lemon Squeezy's rule)")
    config.public_url = (config.public_url or f"http://{config.host}:{config.port}").rstrip("/")
    server = ThreadingHTTPServer((config.host, config.port), Handler)
    server.daemon_threads = True
    server.config = config
    server.state = State()
    server.catalog = Catalog(config.catalog)
    print(f"Lemon Squeezy stand-in on {config.public_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
