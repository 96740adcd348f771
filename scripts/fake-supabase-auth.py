#!/usr/bin/env python3
"""A local stand-in for Supabase Auth (GoTrue), for scripts/dev and the tests.

It speaks the REST wire format in shared/reference/supabase-auth-and-account-apis.md (section A):
paths under /auth/v1, the `apikey` header on every call, sign-up with e-mail confirmation off
(a session at once), the password and refresh-token grants (refresh tokens rotate; reusing a spent
one revokes the session), GET /user, POST /logout, GET /settings, and the admin API's
DELETE /admin/users/{id} with the secret key. Errors use GoTrue's two shapes (the newer one when
the request sends X-Supabase-Api-Version: 2024-01-01). Access tokens are HS256 JWTs with GoTrue's
claims, signed with the secret the gateway verifies (CONTEXO_JWT_SECRET).

Anyone may create an account with any e-mail and password: this is for development only.

Usage: fake-supabase-auth.py --port PORT --jwt-secret SECRET --anon-key KEY --secret-key KEY
                             [--state FILE] [--host 127.0.0.1] [--token-lifetime 3600]

Test control (secret key only): POST /__fake/faults {"path_prefix": "/admin/users", "status": 500,
"count": 1} makes the next matching calls fail with that status.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REUSE_INTERVAL = 10  # seconds a spent refresh token may be presented again (GoTrue's hosted default)


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Store:
    """Users, sessions and refresh tokens; written to --state after every change when given."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.users = {}          # id -> user record (with password hash)
        self.sessions = {}       # session id -> {"user_id", "active_token"}
        self.refresh_tokens = {}  # token -> {"session_id", "parent", "revoked", "spent_at"}
        self.faults = []
        self.flows = {}          # OAuth state -> {redirect_to, challenge, method}
        self.codes = {}          # PKCE auth code -> {user_id, challenge, method, created}
        if path and os.path.exists(path):
            with open(path) as handle:
                saved = json.load(handle)
            self.users = saved.get("users", {})
            self.sessions = saved.get("sessions", {})
            self.refresh_tokens = saved.get("refresh_tokens", {})

    def save(self):
        if not self.path:
            return
        temporary = self.path + ".tmp"
        with open(temporary, "w") as handle:
            json.dump({"users": self.users, "sessions": self.sessions, "refresh_tokens": self.refresh_tokens}, handle)
        os.replace(temporary, self.path)

    def user_by_email(self, email):
        return next((u for u in self.users.values() if u["email"] == email), None)


def hash_password(password, salt=None):
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), 100_000).hex()
    return f"{salt}${digest}"


def check_password(password, stored):
    salt, _ = stored.split("$", 1)
    return hmac.compare_digest(hash_password(password, salt), stored)


def public_user(user):
    shown = {k: v for k, v in user.items() if k != "password_hash"}
    return shown


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-gotrue"

    def log_message(self, *args):  # quiet: the services log what matters
        pass

    # --- plumbing -------------------------------------------------------------------------------
    @property
    def config(self):
        return self.server.config

    @property
    def store(self):
        return self.server.store

    def send_json(self, status, document, headers=None):
        body = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "X-Total-Count, Link, X-Supabase-Api-Version")
        if document is not None:
            self.send_header("Content-Type", "application/json")
        if self.headers.get("X-Supabase-Api-Version"):
            self.send_header("X-Supabase-Api-Version", "2024-01-01")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message, extra=None):
        if self.headers.get("X-Supabase-Api-Version", "") >= "2024-01-01":
            document = {"code": code, "message": message}
        else:
            document = {"code": status, "error_code": code, "msg": message}
        document.update(extra or {})
        self.send_json(status, document, {"x-sb-error-code": code})

    def read_body(self):
        """Reads the whole body first, so that an early answer never leaves bytes on a kept-alive connection."""
        length = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(length) if length else b""

    def body(self):
        raw = self.raw_body
        if len(raw) > 1 << 20:
            return None, ("request_entity_too_large", 413)
        if not raw:
            return {}, None
        try:
            value = json.loads(raw)
        except ValueError:
            return None, ("bad_json", 400)
        if not isinstance(value, dict):
            return None, ("bad_json", 400)
        return value, None

    def route(self):
        parts = urlsplit(self.path)
        path = parts.path
        if not path.startswith("/auth/v1/") and path != "/auth/v1":
            return None, None
        return path[len("/auth/v1"):] or "/", parse_qs(parts.query)

    def check_apikey(self, path):
        if path in ("/authorize", "/callback", "/verify", "/__fake/google"):
            return True
        key = self.headers.get("apikey")
        if key is None:
            self.send_json(401, {"message": "No API key found in request",
                                 "hint": "No `apikey` request header or url param was found."})
            return False
        if key not in (self.config.anon_key, self.config.secret_key):
            self.send_json(401, {"message": "Invalid API key",
                                 "hint": "Double check your Supabase `anon` or `service_role` API key."})
            return False
        return True

    def take_fault(self, path):
        with self.store.lock:
            for fault in self.store.faults:
                if path.startswith(fault["path_prefix"]) and fault["count"] > 0:
                    fault["count"] -= 1
                    return fault["status"]
        return None

    # --- tokens ---------------------------------------------------------------------------------
    def issuer(self):
        return self.config.issuer

    def mint_access_token(self, user, session_id, method):
        issued = int(time.time())
        claims = {
            "iss": self.issuer(), "sub": user["id"], "aud": "authenticated", "exp": issued + self.config.token_lifetime,
            "iat": issued, "email": user["email"], "phone": "", "app_metadata": user["app_metadata"],
            "user_metadata": user["user_metadata"], "role": "authenticated", "aal": "aal1",
            "amr": [{"method": method, "timestamp": issued}], "session_id": session_id, "is_anonymous": False,
        }
        header = {"alg": "HS256", "typ": "JWT"}
        signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self.config.jwt_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + b64url(signature), claims["exp"]

    def session_response(self, user, session_id, refresh_token, method):
        access, expires_at = self.mint_access_token(user, session_id, method)
        return {"access_token": access, "token_type": "bearer", "expires_in": self.config.token_lifetime,
                "expires_at": expires_at, "refresh_token": refresh_token, "user": public_user(user)}

    def new_user(self, email, password, metadata, provider="email"):
        """Creates a confirmed user (caller holds the lock)."""
        stamp = now_iso()
        user_id = str(uuid.uuid4())
        user = {
            "id": user_id, "aud": "authenticated", "role": "authenticated", "email": email, "phone": "",
            "email_confirmed_at": stamp, "confirmed_at": stamp,
            "app_metadata": {"provider": provider, "providers": [provider]},
            "user_metadata": metadata,
            "identities": [{"identity_id": str(uuid.uuid4()), "id": user_id, "user_id": user_id,
                            "identity_data": {"email": email, "sub": user_id}, "provider": provider, "email": email,
                            "last_sign_in_at": stamp, "created_at": stamp, "updated_at": stamp}],
            "created_at": stamp, "updated_at": stamp, "is_anonymous": False,
            "password_hash": hash_password(password) if password else None,
        }
        self.store.users[user_id] = user
        return user

    def new_session(self, user, method):
        session_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(24)
        self.store.sessions[session_id] = {"user_id": user["id"], "active_token": token}
        self.store.refresh_tokens[token] = {"session_id": session_id, "parent": None, "revoked": False, "spent_at": None}
        user["last_sign_in_at"] = now_iso()
        return self.session_response(user, session_id, token, method)

    def bearer_claims(self):
        """The verified claims of the Bearer token, or None after answering the error."""
        authorization = self.headers.get("Authorization", "")
        if not authorization.lower().startswith("bearer "):
            self.error(401, "no_authorization", "This endpoint requires a valid Bearer token")
            return None
        token = authorization[7:].strip()
        try:
            head, payload, signature = token.split(".")
            expected = hmac.new(self.config.jwt_secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, b64url_decode(signature)):
                raise ValueError("signature")
            claims = json.loads(b64url_decode(payload))
        except (ValueError, TypeError):
            self.error(403, "bad_jwt", "invalid JWT: unable to parse or verify signature, token is malformed")
            return None
        if claims.get("exp", 0) < time.time():
            self.error(403, "bad_jwt", "invalid JWT: unable to parse or verify signature, token is expired")
            return None
        return claims

    # --- verbs ----------------------------------------------------------------------------------
    def do_OPTIONS(self):
        self.read_body()
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
        self.send_header("Access-Control-Allow-Headers",
                         "Accept, Authorization, Content-Type, X-Client-IP, X-Client-Info, X-JWT-AUD, "
                         "x-use-cookie, X-Supabase-Api-Version, apikey")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def dispatch(self, method):
        self.read_body()
        path, query = self.route()
        if path is None:
            return self.send_json(404, {"code": 404, "error_code": "not_found", "msg": "Not found"})
        if not self.check_apikey(path):
            return
        fault = self.take_fault(path)
        if fault:
            return self.error(fault, "unexpected_failure", "injected failure")
        if method == "POST" and path == "/__fake/faults":
            return self.faults()
        handler = {
            ("POST", "/signup"): self.signup,
            ("POST", "/token"): self.token,
            ("GET", "/user"): self.get_user,
            ("POST", "/logout"): self.logout,
            ("GET", "/settings"): self.settings,
            ("POST", "/recover"): self.recover,
            ("GET", "/authorize"): self.authorize,
            ("POST", "/__fake/google"): self.google_consent,
        }.get((method, path))
        if handler:
            return handler(query)
        if path.startswith("/admin/users/") and method == "DELETE":
            return self.admin_delete(path[len("/admin/users/"):])
        self.send_json(404, {"code": 404, "error_code": "not_found", "msg": "Not found"})

    def faults(self):
        if self.headers.get("apikey") != self.config.secret_key:
            return self.error(403, "not_admin", "User not allowed")
        body, problem = self.body()
        if problem:
            return self.error(problem[1], *problem[:1], "Could not parse request body as JSON")
        with self.store.lock:
            self.store.faults.append({"path_prefix": body.get("path_prefix", "/"), "status": int(body.get("status", 500)),
                                      "count": int(body.get("count", 1))})
        self.send_json(200, {})

    def settings(self, _query):
        self.send_json(200, {
            "external": {"email": True, "google": True, "apple": False, "github": False, "anonymous_users": False,
                         "phone": False},
            "disable_signup": False, "mailer_autoconfirm": True, "phone_autoconfirm": False, "sms_provider": "",
            "saml_enabled": False, "saml_private_key_next_configured": False, "passkeys_enabled": False})

    # --- Google OAuth with PKCE (A.5): a local consent page stands in for Google ------------------
    def authorize(self, query):
        provider = (query.get("provider") or [""])[0]
        redirect_to = (query.get("redirect_to") or [""])[0]
        challenge = (query.get("code_challenge") or [""])[0]
        method = (query.get("code_challenge_method") or ["s256"])[0].lower()
        if provider != "google":
            return self.error(400, "validation_failed", f"Unsupported provider: {provider}")
        if not redirect_to.startswith(("http://", "https://")):
            return self.error(400, "validation_failed", "redirect_to must be an http(s) URL")
        if challenge and not (43 <= len(challenge) <= 128 and re.match(r"^[A-Za-z0-9._~-]+$", challenge)):
            return self.error(400, "validation_failed", "code challenge must be 43 to 128 characters")
        state = secrets.token_urlsafe(16)
        with self.store.lock:
            self.store.flows[state] = {"redirect_to": redirect_to, "challenge": challenge, "method": method}
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in with Google (stand-in)</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font:16px system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem">
<p style="background:#fef3c7;padding:.5rem">Google stand-in (development): no Google account is involved.</p>
<h1>Choose an account</h1>
<form method="post" action="/auth/v1/__fake/google">
<input type="hidden" name="state" value="{state}">
<label for="email">E-mail</label><br><input id="email" name="email" type="email" required style="width:100%;padding:.5rem">
<p><button type="submit" style="padding:.5rem 1rem">Continue</button></p></form></body></html>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def google_consent(self, _query):
        form = parse_qs(self.raw_body.decode(errors="replace"))
        state = (form.get("state") or [""])[0]
        email = (form.get("email") or [""])[0].strip().lower()
        with self.store.lock:
            flow = self.store.flows.pop(state, None)
            if not flow or not EMAIL_RE.match(email):
                return self.error(400, "validation_failed", "unknown sign-in attempt or invalid e-mail")
            user = self.store.user_by_email(email) or self.new_user(email, None, {}, provider="google")
            code = str(uuid.uuid4())
            self.store.codes[code] = {"user_id": user["id"], "challenge": flow["challenge"], "method": flow["method"],
                                      "created": time.time()}
            self.store.save()
        separator = "&" if "?" in flow["redirect_to"].split("#")[0] else "?"
        target = flow["redirect_to"].split("#")[0] + f"{separator}code={code}"
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def pkce_grant(self, body):
        code, verifier = body.get("auth_code"), body.get("code_verifier")
        if not isinstance(code, str) or not isinstance(verifier, str) or not code or not verifier:
            return self.error(400, "validation_failed", "invalid request: both auth code and code verifier should be non-empty")
        with self.store.lock:
            flow = self.store.codes.pop(code, None)
            if not flow:
                return self.error(404, "flow_state_not_found", "invalid flow state, no valid flow state found")
            if time.time() - flow["created"] > 300:
                return self.error(422, "flow_state_expired", "flow state has expired")
            expected = flow["challenge"]
            actual = verifier if flow["method"] == "plain" else b64url(hashlib.sha256(verifier.encode()).digest())
            if not hmac.compare_digest(actual, expected):
                return self.error(400, "bad_code_verifier", "code challenge does not match previously saved code verifier")
            user = self.store.users.get(flow["user_id"])
            if not user:
                return self.error(404, "flow_state_not_found", "invalid flow state, no valid flow state found")
            response = self.new_session(user, "oauth")
            self.store.save()
        self.send_json(200, response)

    def recover(self, _query):
        """Same answer for known and unknown addresses; no mail leaves this machine."""
        body, problem = self.body()
        if problem:
            return self.error(problem[1], problem[0], "Could not parse request body as JSON")
        email = str(body.get("email") or "").strip().lower()
        if not EMAIL_RE.match(email):
            return self.error(400, "email_address_invalid", f'Email address "{email}" is invalid')
        print(f"password reset requested for {email} (not sent: development stand-in)", flush=True)
        self.send_json(200, {})

    def signup(self, _query):
        body, problem = self.body()
        if problem:
            return self.error(problem[1], problem[0], "Could not parse request body as JSON")
        email = str(body.get("email") or "").strip().lower()
        password = body.get("password")
        if body.get("phone") and email:
            return self.error(400, "validation_failed", "Only an email address or phone number should be provided on signup.")
        if not email:
            return self.error(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled")
        if not EMAIL_RE.match(email):
            return self.error(400, "email_address_invalid", f'Email address "{email}" is invalid')
        if not isinstance(password, str) or not password:
            return self.error(400, "validation_failed", "Signup requires a valid password")
        if len(password.encode()) > 72:
            return self.error(400, "validation_failed", "Password cannot be longer than 72 characters")
        if len(password) < 6:
            return self.error(422, "weak_password", "Password should be at least 6 characters.",
                              {"weak_password": {"reasons": ["length"]}})
        with self.store.lock:
            if self.store.user_by_email(email):
                return self.error(422, "user_already_exists", "User already registered")
            metadata = body.get("data") if isinstance(body.get("data"), dict) else {}
            user = self.new_user(email, password, metadata)
            response = self.new_session(user, "password")
            self.store.save()
        self.send_json(200, response)

    def token(self, query):
        grant = (query.get("grant_type") or [""])[0]
        body, problem = self.body()
        if problem:
            return self.error(problem[1], problem[0], "Could not parse request body as JSON")
        if grant == "password":
            return self.password_grant(body)
        if grant == "refresh_token":
            return self.refresh_grant(body)
        if grant == "pkce":
            return self.pkce_grant(body)
        self.error(400, "invalid_credentials", "unsupported_grant_type")

    def password_grant(self, body):
        email = str(body.get("email") or "").strip().lower()
        password = body.get("password")
        with self.store.lock:
            user = self.store.user_by_email(email)
            if not user or not isinstance(password, str) or not user.get("password_hash") \
                    or not check_password(password, user["password_hash"]):
                return self.error(400, "invalid_credentials", "Invalid login credentials")
            response = self.new_session(user, "password")
            self.store.save()
        self.send_json(200, response)

    def refresh_grant(self, body):
        token = body.get("refresh_token")
        if not isinstance(token, str) or len(token) < 12:
            return self.error(400, "validation_failed", "Refresh token is not valid")
        with self.store.lock:
            record = self.store.refresh_tokens.get(token)
            if not record:
                return self.error(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
            session = self.store.sessions.get(record["session_id"])
            if not session or record["revoked"]:
                return self.error(400, "session_not_found", "Session from session_id claim in JWT does not exist")
            user = self.store.users.get(session["user_id"])
            if not user:
                return self.error(400, "session_not_found", "Session from session_id claim in JWT does not exist")
            active = session["active_token"]
            if token != active:
                # A spent token: tolerated within the reuse interval or as the active token's parent.
                in_interval = record["spent_at"] and time.time() - record["spent_at"] <= REUSE_INTERVAL
                is_parent = self.store.refresh_tokens.get(active, {}).get("parent") == token
                if in_interval or is_parent:
                    return self.send_json(200, self.session_response(user, record["session_id"], active, "token_refresh"))
                for other in self.store.refresh_tokens.values():
                    if other["session_id"] == record["session_id"]:
                        other["revoked"] = True
                self.store.sessions.pop(record["session_id"], None)
                self.store.save()
                return self.error(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
            fresh = secrets.token_urlsafe(24)
            record["spent_at"] = time.time()
            self.store.refresh_tokens[fresh] = {"session_id": record["session_id"], "parent": token, "revoked": False,
                                                "spent_at": None}
            session["active_token"] = fresh
            response = self.session_response(user, record["session_id"], fresh, "token_refresh")
            self.store.save()
        self.send_json(200, response)

    def get_user(self, _query):
        claims = self.bearer_claims()
        if claims is None:
            return
        with self.store.lock:
            user = self.store.users.get(claims.get("sub"))
            if not user:
                return self.error(403, "user_not_found", "User from sub claim in JWT does not exist")
            if claims.get("session_id") not in self.store.sessions:
                return self.error(403, "session_not_found", "Session from session_id claim in JWT does not exist")
            shown = public_user(user)
        self.send_json(200, shown)

    def logout(self, query):
        claims = self.bearer_claims()
        if claims is None:
            return
        scope = (query.get("scope") or ["global"])[0]
        if scope not in ("global", "local", "others"):
            return self.error(400, "validation_failed", f"Unsupported logout scope {scope!r}")
        with self.store.lock:
            current = claims.get("session_id")
            for session_id, session in list(self.store.sessions.items()):
                if session["user_id"] != claims.get("sub"):
                    continue
                if scope == "global" or (scope == "local" and session_id == current) or \
                        (scope == "others" and session_id != current):
                    self.store.sessions.pop(session_id)
            self.store.save()
        self.send_json(204, None)

    def admin_delete(self, user_id):
        claims_ok = self.headers.get("Authorization", "") == f"Bearer {self.config.secret_key}" and \
            self.headers.get("apikey") == self.config.secret_key
        if not claims_ok:
            if not self.headers.get("Authorization"):
                return self.error(401, "no_authorization", "This endpoint requires a valid Bearer token")
            return self.error(403, "not_admin", "User not allowed")
        if not UUID_RE.match(user_id):
            return self.error(404, "validation_failed", "user_id must be an UUID")
        with self.store.lock:
            if user_id not in self.store.users:
                return self.error(404, "user_not_found", "User not found")
            self.store.users.pop(user_id)
            for session_id in [s for s, v in self.store.sessions.items() if v["user_id"] == user_id]:
                self.store.sessions.pop(session_id)
                for token in [t for t, r in self.store.refresh_tokens.items() if r["session_id"] == session_id]:
                    self.store.refresh_tokens.pop(token)
            self.store.save()
        self.send_json(200, {})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--jwt-secret", required=True)
    parser.add_argument("--anon-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--state")
    parser.add_argument("--token-lifetime", type=int, default=3600)
    parser.add_argument("--public-url", help="the base URL clients use (default http://HOST:PORT)")
    config = parser.parse_args()
    base = (config.public_url or f"http://{config.host}:{config.port}").rstrip("/")
    config.issuer = base + "/auth/v1"
    server = ThreadingHTTPServer((config.host, config.port), Handler)
    server.daemon_threads = True
    server.config = config
    server.store = Store(config.state)
    print(f"fake Supabase Auth on {config.issuer}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
