#!/usr/bin/python3
"""scripts/browser-test.py: the embeddable widget in a real browser (headless Chromium) against a
running gateway.

It serves demo/index.html (placeholders substituted) from two static servers on 127.0.0.1: one
reached as http://localhost:<allowed-port> (an origin the widget allows) and one as
http://127.0.0.1:<denied-port> (an origin it does not), then checks:

  a. allowed origin: open the widget, ask a question, see the answer grow while it streams, then a
     citation of the Markdown document                                   -> allowed-answer.png
  b. reload: the conversation is shown again                             -> after-reload.png
  c. the answer renderer fed hostile Markdown and HTML: only safe elements, nothing executes
  d. other origin: the widget says it is not available, input disabled   -> not-allowed.png
  e. themed: the customer sets a dark, left-side, German appearance with suggested questions
     through the API; the widget shows it, a suggested question is asked, its answer gets a 👎 with
     a comment, the visitor asks for a person (email, consent) and the customer sees both ->
     themed-dark.png, themed-dark-answer.png, themed-dark-handoff.png (the appearance is put back
     afterwards); with --webhooks, the request also arrives, signed, at the customer's receiver
  f. handoff (with --webhooks): the same flow in English on the default appearance: a question, a
     👎, "Talk to a person"; handoff.requested arrives signed at the receiver with the transcript
     and its citations                                                    -> handoff-en.png

Usage:
  scripts/browser-test.py --gateway http://127.0.0.1:8080 --widget-id ID --allowed-port 8090
  scripts/browser-test.py --gateway http://127.0.0.1:8080 --webhooks https://127.0.0.1:8093/ \
      --webhooks-control http://127.0.0.1:8094    # the receiver scripts/dev runs
  scripts/browser-test.py --gateway http://127.0.0.1:8080     # seeds the demo widget itself

Without --widget-id it runs scripts/demo-seed.sh with DEMO_ORIGIN=http://localhost:<allowed-port>.
Needs Debian's chromium, chromium-driver and python3-selenium (run with /usr/bin/python3, which
has python3-selenium). Exits 0 only when every scenario passed; screenshots, the browser console
and a failure screenshot go to --artifacts.
"""

import argparse
import functools
import http.server
import json
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

SYSTEM_PYTHON = "/usr/bin/python3"
try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    # Debian's python3-selenium lives in the system interpreter's dist-packages, not in pyenv/venvs.
    if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and os.path.exists(SYSTEM_PYTHON) \
            and not os.environ.get("CONTEXO_BROWSER_TEST_REEXEC"):
        os.environ["CONTEXO_BROWSER_TEST_REEXEC"] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, *sys.argv])
    sys.exit("browser-test: selenium is not installed; apt-get install -y chromium chromium-driver python3-selenium")

REPO = pathlib.Path(__file__).resolve().parent.parent
QUESTION = "How long do I have to return an item?"
WAIT = 30.0  # seconds, for every single wait

# Shadow-root helpers run in the page: the widget's host element and parts of its UI.
JS_HELPERS = """
const host = document.querySelector('contexo-widget');
const root = host && host.shadowRoot;
const q = (s) => root ? root.querySelector(s) : null;
const all = (s) => root ? Array.from(root.querySelectorAll(s)) : [];
"""


class Failure(Exception):
    pass


def log(message):
    print(f"browser-test: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoPage(http.server.BaseHTTPRequestHandler):
    """Serves the demo page (and nothing else) with its placeholders filled in."""

    page = b""

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path not in ("/", "/index.html"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args):
        pass


def serve(port, page):
    handler = type("Page", (DemoPage,), {"page": page})
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        raise Failure(f"cannot listen on 127.0.0.1:{port}: {error}") from error
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check_widget_script(gateway):
    """widget.js must load cross-origin: 200, a JavaScript type, and no same-origin resource policy."""
    url = f"{gateway}/widget.js"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            headers = response.headers
            body = response.read()
    except urllib.error.HTTPError as error:
        raise Failure(f"GET {url} answered {error.code}; the gateway must serve Services/Gateway/Public/widget.js") from error
    except OSError as error:
        raise Failure(f"GET {url} failed: {error} (is the gateway running?)") from error
    content_type = headers.get("Content-Type", "")
    if "javascript" not in content_type:
        raise Failure(f"{url} has Content-Type {content_type!r}; with X-Content-Type-Options: nosniff the browser "
                      "refuses to run it (serve text/javascript)")
    policy = headers.get("Cross-Origin-Resource-Policy", "")
    if policy.strip().lower() in ("same-origin", "same-site"):
        raise Failure(f"{url} has Cross-Origin-Resource-Policy: {policy}; browsers refuse to load it from another "
                      "site's page (send Cross-Origin-Resource-Policy: cross-origin for widget.js)")
    log(f"{url}: {len(body)} bytes, {content_type}, CORP {policy or '(none)'}")


def seed_widget(gateway, origin):
    log(f"no --widget-id: running scripts/demo-seed.sh for {origin}")
    env = dict(os.environ, GATEWAY=gateway, DEMO_ORIGIN=origin)
    result = subprocess.run([str(REPO / "scripts" / "demo-seed.sh")], env=env, stdout=subprocess.PIPE, text=True,
                            timeout=180)
    if result.returncode != 0:
        raise Failure(f"scripts/demo-seed.sh failed with status {result.returncode}")
    return result.stdout.strip().splitlines()[-1]


class Browser:
    def __init__(self, args):
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--disable-extensions", "--no-first-run", "--lang=en-US"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        try:
            self.driver = webdriver.Chrome(service=Service(executable_path=args.chromedriver), options=options)
        except WebDriverException as error:
            raise Failure(f"cannot start {args.chromium} through {args.chromedriver}: {error.msg}") from error
        self.driver.set_page_load_timeout(WAIT)
        self.driver.set_script_timeout(WAIT)
        self.artifacts = pathlib.Path(args.artifacts)
        self.console = []

    def js(self, body, *args):
        return self.driver.execute_script(JS_HELPERS + body, *args)

    def wait(self, what, condition, timeout=WAIT, interval=0.05):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise Failure(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def state(self):
        return self.js("return host ? host.getAttribute('data-contexo-state') : null;")

    def wait_state(self, *states):
        self.wait(f"data-contexo-state to be {' or '.join(states)} (it is {self.state()!r})",
                  lambda: self.state() in states)

    def load(self, url):
        self.driver.get(url)
        self.wait("the widget's <contexo-widget> host element (did widget.js load?)",
                  lambda: self.js("return !!root;"))

    def part(self, selector):
        host = self.driver.find_element(By.CSS_SELECTOR, "contexo-widget")
        return host.shadow_root.find_element(By.CSS_SELECTOR, selector)

    def open_widget(self):
        launcher = self.part("button[aria-expanded]")
        if launcher.get_attribute("aria-expanded") != "true":
            launcher.click()
        self.wait("the dialog to open", lambda: self.js("return !q('[role=dialog]').hidden;"))

    def screenshot(self, name):
        path = self.artifacts / name
        self.driver.save_screenshot(str(path))
        log(f"saved {path}")

    def collect_console(self):
        try:
            for entry in self.driver.get_log("browser"):
                self.console.append(f"{entry.get('level')} {entry.get('message')}")
        except WebDriverException:
            pass

    def quit(self):
        self.collect_console()
        (self.artifacts / "browser-console.log").write_text("\n".join(self.console) + "\n")
        self.driver.quit()


def scenario_allowed(browser, url, expected_title, expected_answer):
    browser.load(url)
    browser.wait_state("ready", "not-allowed", "error")
    if browser.state() == "not-allowed":
        # A reused widget's new origin reaches the gateway's allow-list cache through an event;
        # give it one more chance before calling it a failure.
        log("the allowed origin was refused; retrying once in 3 s (allow-list cache propagation)")
        time.sleep(3)
        browser.load(url)
        browser.wait_state("ready", "not-allowed", "error")
    if browser.state() != "ready":
        raise Failure(f"on the allowed origin the widget state is {browser.state()!r}, not 'ready'")
    browser.js("window.__contexoDebug = true; window.__contexoEvents = [];")
    browser.open_widget()
    browser.wait_state("ready")
    focused = browser.js("return root.activeElement && root.activeElement.tagName;")
    if focused != "TEXTAREA":
        raise Failure(f"opening the widget should move focus into the input; focus is on {focused!r}")
    before = browser.js("return all('[data-role=assistant]').length;")

    # Sample the newest answer's length every 30 ms inside the page while the widget streams.
    browser.js("""
        window.__contexoSamples = [];
        window.__contexoSampler = setInterval(() => {
          const answers = all('[data-role=assistant]');
          const last = answers[answers.length - 1];
          window.__contexoSamples.push({ state: host.getAttribute('data-contexo-state'),
                                         status: last && last.getAttribute('data-status'),
                                         length: last ? last.textContent.length : -1, t: performance.now() });
        }, 30);""")
    textarea = browser.part("textarea")
    textarea.send_keys(QUESTION)
    textarea.send_keys(Keys.ENTER)
    browser.wait("the answer to finish", lambda: browser.js(
        "const a = all('[data-role=assistant]');"
        "return a.length > arguments[0] && ['complete', 'failed'].includes(a[a.length - 1].getAttribute('data-status'))"
        " && host.getAttribute('data-contexo-state') !== 'streaming';", before))
    browser.js("clearInterval(window.__contexoSampler);")

    answer = browser.js("""
        const a = all('[data-role=assistant]').pop();
        return { status: a.getAttribute('data-status'), text: a.firstChild.textContent,
                 visitor: all('[data-role=visitor]').map((v) => v.textContent) };""")
    if answer["status"] != "complete":
        raise Failure(f"the answer failed: {answer['text']!r}")
    if QUESTION not in answer["visitor"]:
        raise Failure(f"the question is not shown as a visitor message: {answer['visitor']!r}")
    if expected_answer and expected_answer.lower() not in answer["text"].lower():
        raise Failure(f"the answer does not mention {expected_answer!r}: {answer['text']!r}")

    samples = browser.js("return window.__contexoSamples;")
    growing = sorted({s["length"] for s in samples
                      if s["state"] == "streaming" and s["status"] == "streaming" and s["length"] > 0})
    if len(growing) >= 2:
        log(f"answer grew while streaming: lengths {growing[:8]}{' ...' if len(growing) > 8 else ''}")
        streamed = "observed growing"
    else:
        events = browser.js("return window.__contexoEvents || [];")
        kinds = [e["type"] for e in events if e["type"] in ("token", "done", "error")]
        if "token" not in kinds or "done" not in kinds or kinds.index("token") > kinds.index("done"):
            raise Failure(f"no token event before the done event (events: {kinds}); the answer was not streamed")
        first_token = next(e["t"] for e in events if e["type"] == "token")
        done = next(e["t"] for e in events if e["type"] == "done")
        log(f"answer too fast to sample twice ({len(samples)} samples); {kinds.count('token')} token events "
            f"arrived before done, the first {done - first_token} ms before it")
        streamed = "token events before done"

    browser.wait("a citation", lambda: browser.js("return all('[data-role=assistant]').pop()"
                                                  ".querySelectorAll('[data-citation]').length > 0;"))
    citations = browser.js("""
        return Array.from(all('[data-role=assistant]').pop().querySelectorAll('[data-citation]')).map((c) => {
          const link = c.querySelector('a');
          return { text: c.textContent, href: link && link.href, target: link && link.target, rel: link && link.rel };
        });""")
    if not any(expected_title.lower() in c["text"].lower() for c in citations):
        raise Failure(f"no citation names {expected_title!r}: {[c['text'] for c in citations]}")
    for c in citations:
        if c["href"] and (c["target"] != "_blank" or "noopener" not in c["rel"] or "noreferrer" not in c["rel"]):
            raise Failure(f"citation link {c['href']} must open in a new tab with rel=noopener noreferrer")
    log(f"citations: {[c['text'] for c in citations]}"
        f"{'' if any(c['href'] for c in citations) else ' (no source_url, so plain text, not links)'}")
    browser.screenshot("allowed-answer.png")

    # Escape closes the dialog and gives focus back to the launcher.
    browser.part("textarea").send_keys(Keys.ESCAPE)
    browser.wait("Escape to close the dialog", lambda: browser.js("return q('[role=dialog]').hidden;"))
    if not browser.js("return root.activeElement === q('button[aria-expanded]') "
                      "&& q('button[aria-expanded]').getAttribute('aria-expanded') === 'false';"):
        raise Failure("after Escape, focus should be back on the launcher with aria-expanded=false")
    final = browser.js("return all('[data-role=assistant]').pop().firstChild.textContent;")
    return {"answer": final, "streamed": streamed}


def scenario_reload(browser, previous_answer):
    browser.driver.refresh()
    browser.wait("the widget after reload", lambda: browser.js("return !!root;"))
    browser.wait_state("ready", "not-allowed", "error")
    browser.open_widget()
    browser.wait_state("ready", "error", "not-allowed")
    if browser.state() != "ready":
        raise Failure(f"after reload the widget state is {browser.state()!r}")
    shown = browser.wait("the earlier conversation", lambda: browser.js("""
        const visitor = all('[data-role=visitor]').map((v) => v.textContent);
        const answers = all('[data-role=assistant]');
        return visitor.includes(arguments[0]) && answers.length
          ? { answers: answers.map((a) => a.firstChild.textContent),
              citations: answers[answers.length - 1].querySelectorAll('[data-citation]').length }
          : null;""", QUESTION))
    if previous_answer.strip() not in [a.strip() for a in shown["answers"]]:
        raise Failure(f"the earlier answer is not shown after reload; shown: {shown['answers']!r}")
    if shown["citations"] == 0:
        raise Failure("the earlier answer is shown without its citations after reload")
    browser.screenshot("after-reload.png")


HOSTILE_MARKDOWN = """Run `<img src=x onerror="window.__xss=1">` first, then:
```sh
<script>window.__xss=1</script>
make BUILD_TLS=yes
```
- [click me](javascript:window.__xss=1)
- [docs](https://example.com/a_b?x=1) and https://redis.io/docs/.
<img src=x onerror="window.__xss=1"> **bold** <a href="javascript:window.__xss=1">raw</a>"""


def scenario_renderer(browser):
    """The widget's answer renderer fed hostile Markdown and HTML in the real browser: it builds
    only text, code, lists, emphasis and http(s) links, and nothing executes."""
    browser.js("""
        window.__contexoDebug = true;
        const s = document.createElement('script');
        s.src = document.querySelector('script[data-widget-id]').src;
        s.setAttribute('data-widget-id', '00000000-0000-4000-8000-00000000dead');
        document.body.append(s);""")
    browser.wait("the debug renderer", lambda: browser.js("return typeof window.__contexoMarkdown === 'function';"))
    rendered = browser.js("""
        const html = window.__contexoMarkdown(arguments[0]);
        const box = document.createElement('div');
        box.innerHTML = html;   // what the widget built, parsed again: still inert
        document.body.append(box);
        return { html, tags: Array.from(box.querySelectorAll('*')).map((e) => e.tagName.toLowerCase()),
                 links: Array.from(box.querySelectorAll('a')).map((a) => [a.getAttribute('href'), a.rel, a.target]) };""",
                         HOSTILE_MARKDOWN)
    time.sleep(0.5)
    if browser.js("return window.__xss !== undefined;"):
        raise Failure("hostile Markdown executed")
    unexpected = set(rendered["tags"]) - {"p", "br", "code", "pre", "ul", "ol", "li", "strong", "a"}
    if unexpected:
        raise Failure(f"the renderer made {sorted(unexpected)} elements: {rendered['html']}")
    expected_links = [["https://example.com/a_b?x=1", "noopener noreferrer", "_blank"],
                      ["https://redis.io/docs/", "noopener noreferrer", "_blank"]]
    if rendered["links"] != expected_links:
        raise Failure(f"links should be the two http(s) ones only, opening apart: {rendered['links']}")
    for fragment in ("<code>&lt;img src=x onerror=\"window.__xss=1\"&gt;</code>",
                     "<pre><code>&lt;script&gt;window.__xss=1&lt;/script&gt;\nmake BUILD_TLS=yes\n</code></pre>",
                     "<li>click me</li>", "<strong>bold</strong>"):
        if fragment not in rendered["html"]:
            raise Failure(f"expected {fragment!r} in {rendered['html']}")
    log(f"renderer: {len(rendered['tags'])} elements, links {[link[0] for link in rendered['links']]}, nothing executed")


def scenario_denied(browser, url):
    browser.load(url)
    browser.wait_state("not-allowed")
    browser.open_widget()
    browser.wait("the not-allowed notice", lambda: browser.js(
        "return /not available on this site/.test(q('[role=status]').textContent);"))
    time.sleep(1.0)  # give any (wrong) late answer a chance to appear
    ui = browser.js("""return { state: host.getAttribute('data-contexo-state'), input: q('textarea').disabled,
                               send: q('button[type=submit]').disabled,
                               answers: all('[data-role=assistant]').length };""")
    if ui["state"] != "not-allowed" or not ui["input"] or not ui["send"] or ui["answers"]:
        raise Failure(f"on the other origin expected not-allowed with the input disabled and no answer; got {ui}")
    browser.screenshot("not-allowed.png")


DARK_APPEARANCE = {
    "accent_color": "#0f766e", "theme": "dark", "position": "left", "title": "Acme Hilfe", "avatar_initials": "AO",
    "suggested_questions": ["Wie lange habe ich Zeit für eine Rücksendung?", "Wie lange dauert der Versand?"],
    "language": "de", "handoff": True,
}
DEFAULT_APPEARANCE = {"accent_color": "#1d4ed8", "theme": "light", "position": "right", "title": "",
                      "avatar_initials": "", "suggested_questions": [], "language": "auto", "handoff": False}


def gateway_call(gateway, method, path, body, token=None):
    request = urllib.request.Request(f"{gateway}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise Failure(f"{method} {path} answered {error.code}: {error.read()[:500]!r}") from error


def control_call(control, method, path, body=None):
    request = urllib.request.Request(f"{control}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


class Receiver:
    """The customer's webhook receiver (scripts/webhook-receiver.py): an endpoint registered for
    the customer, its secret handed to the receiver, and the wait for what arrives."""

    def __init__(self, gateway, token, url, control):
        self.gateway, self.token, self.control = gateway, token, control.rstrip("/")
        self.endpoint = gateway_call(gateway, "POST", "/v1/webhooks",
                                     {"url": url, "events": ["handoff.requested", "feedback.received"],
                                      "description": "browser test"}, token)
        control_call(self.control, "POST", "/secrets", {"secrets": [self.endpoint["secret"]], "add": True})

    def handoff(self, email):
        """The handoff.requested delivery for `email`, once it was taken (answered 200)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for delivery in control_call(self.control, "GET", "/received")["deliveries"]:
                data = (delivery.get("body") or {}).get("data") or {}
                if delivery.get("event_type") == "handoff.requested" and delivery.get("answered") == 200 \
                        and (data.get("handoff") or {}).get("email") == email:
                    if not delivery.get("verified"):
                        raise Failure("the handoff webhook's signature did not verify")
                    return data
            time.sleep(0.2)
        raise Failure(f"no signed handoff.requested for {email} reached the receiver within {WAIT:.0f} s")

    def close(self):
        gateway_call(self.gateway, "DELETE", f"/v1/webhooks/{self.endpoint['id']}", None, self.token)


def scenario_themed(browser, gateway, widget_id, customer_id, url, webhooks=None):
    # The customer's side, as the dashboard does it (a development token for the demo customer).
    token = gateway_call(gateway, "POST", "/dev/token", {"customer_id": customer_id})["token"]
    saved = gateway_call(gateway, "PATCH", f"/v1/widgets/{widget_id}", {"appearance": DARK_APPEARANCE}, token)
    if saved.get("appearance", {}).get("theme") != "dark":
        raise Failure(f"the appearance was not saved: {saved.get('appearance')!r}")
    receiver = Receiver(gateway, token, webhooks[0], webhooks[1]) if webhooks else None
    try:
        browser.load(url)
        browser.js("sessionStorage.clear();")  # a new visitor: no conversation yet, so suggestions show
        browser.load(url)
        browser.wait_state("ready")
        browser.open_widget()
        browser.wait("the suggested questions", lambda: browser.js("return all('.s button').length === 2;"))
        seen = browser.js("""
            const frame = q('.w'), style = (s) => getComputedStyle(q(s));
            return { theme: frame.getAttribute('data-theme'), lang: frame.lang, panel: style('.p').backgroundColor,
                     header: style('.h').backgroundColor, left: style('.l').left, title: q('#t').textContent,
                     initials: q('.av').textContent, send: q('.f button').textContent, placeholder: q('#q').placeholder,
                     suggestions: all('.s button').map((b) => b.textContent) };""")
        expected = {"theme": "dark", "lang": "de", "panel": "rgb(22, 24, 29)", "header": "rgb(15, 118, 110)",
                    "left": "20px", "title": "Acme Hilfe", "initials": "AO", "send": "Senden",
                    "placeholder": "Stellen Sie eine Frage", "suggestions": DARK_APPEARANCE["suggested_questions"]}
        wrong = {key: (seen.get(key), value) for key, value in expected.items() if seen.get(key) != value}
        if wrong:
            raise Failure(f"the widget does not show its appearance (seen, expected): {wrong}")
        time.sleep(0.4)  # past the panel's opening animation
        browser.screenshot("themed-dark.png")
        browser.part(".s button").click()
        browser.wait("the suggested question's answer", lambda: browser.js(
            "const a = all('[data-role=assistant]');"
            "return a.length > 0 && ['complete', 'failed'].includes(a[a.length - 1].getAttribute('data-status'));"))
        asked = browser.js("return { visitor: all('[data-role=visitor]').map((v) => v.textContent), "
                           "status: all('[data-role=assistant]').pop().getAttribute('data-status'), "
                           "suggestions: all('.s').length };")
        if asked["visitor"] != DARK_APPEARANCE["suggested_questions"][:1] or asked["status"] != "complete":
            raise Failure(f"clicking a suggested question should ask it and get an answer: {asked!r}")
        if asked["suggestions"]:
            raise Failure("the suggested questions should go once the visitor has asked")
        # 👎 on the answer, then the optional comment; the customer sees both.
        browser.part("[data-role=assistant]:last-of-type .k button[aria-pressed]:nth-of-type(2)").click()
        browser.wait("the 👎 to be recorded", lambda: browser.js(
            "const b = all('[data-role=assistant]').pop().querySelectorAll('.k button');"
            "return b.length === 2 && b[1].getAttribute('aria-pressed') === 'true' && b[0].getAttribute('aria-pressed') === 'false';"))
        comment = browser.part("[data-role=assistant]:last-of-type .k input")
        if comment.get_attribute("placeholder") != "Was hat gefehlt? (optional)":
            raise Failure(f"the comment box should speak German: {comment.get_attribute('placeholder')!r}")
        comment.send_keys("Die Rückgabefrist fehlt.")
        comment.send_keys(Keys.ENTER)
        browser.wait("the thanks", lambda: browser.js(
            "return (all('[data-role=assistant]').pop().querySelector('.k span') || {}).textContent === 'Danke für Ihr Feedback.';"))
        browser.screenshot("themed-dark-answer.png")
        # Then the visitor asks for a person, in German, with consent; the customer gets the request.
        browser.part(".hb").click()
        browser.wait("the handoff form", lambda: browser.js("return !!q('.ho input[type=email]');"))
        labels = browser.js("return all('.ho label').map((l) => l.textContent);")
        if labels[0] != "Ihre E-Mail-Adresse":
            raise Failure(f"the handoff form should speak German: {labels!r}")
        browser.part(".ho button").click()  # no address yet: refused in the page
        browser.wait("the address to be asked for", lambda: browser.js(
            "return q('.ho [role=alert]').textContent === 'Bitte geben Sie eine gültige E-Mail-Adresse ein.';"))
        browser.part(".ho input[type=email]").send_keys("besucher@example.org")
        browser.part(".ho textarea").send_keys("Bitte rufen Sie mich nicht an.")
        browser.part(".ho input[type=checkbox]").click()
        browser.part(".ho button").click()
        browser.wait("the request to be sent", lambda: browser.js(
            "return !q('.ho') && all('.m[role=status]').some((m) => m.textContent.startsWith('Gesendet.'));"))
        browser.screenshot("themed-dark-handoff.png")
        requests = gateway_call(gateway, "GET", f"/v1/widgets/{widget_id}/handoffs", None, token).get("requests") or [{}]
        if requests[0].get("email") != "besucher@example.org" or requests[0].get("language") != "de" \
                or not requests[0].get("consent", "").startswith("Ich bin einverstanden"):
            raise Failure(f"the customer should see the request with the German consent: {requests[0]!r}")
        summary = gateway_call(gateway, "GET", f"/v1/widgets/{widget_id}/feedback", None, token)
        newest = (summary.get("entries") or [{}])[0]
        if newest.get("vote") != "down" or newest.get("comment") != "Die Rückgabefrist fehlt." \
                or newest.get("question") != DARK_APPEARANCE["suggested_questions"][0]:
            raise Failure(f"the customer should see the 👎 with its comment and question: {newest!r}")
        if receiver:
            data = receiver.handoff("besucher@example.org")
            transcript = data.get("transcript") or []
            if data["handoff"].get("language") != "de" or not data["handoff"].get("consent", "").startswith("Ich bin einverstanden") \
                    or [m.get("role") for m in transcript] != ["visitor", "assistant"] \
                    or transcript[0].get("text") != DARK_APPEARANCE["suggested_questions"][0] \
                    or (transcript[1].get("feedback") or {}).get("vote") != "down":
                raise Failure(f"the signed webhook should carry the German request, the transcript and the 👎: {data!r}")
    finally:
        if receiver:
            receiver.close()
        gateway_call(gateway, "PATCH", f"/v1/widgets/{widget_id}", {"appearance": DEFAULT_APPEARANCE}, token)


def scenario_handoff_english(browser, gateway, widget_id, customer_id, url, webhooks):
    token = gateway_call(gateway, "POST", "/dev/token", {"customer_id": customer_id})["token"]
    gateway_call(gateway, "PATCH", f"/v1/widgets/{widget_id}", {"appearance": {**DEFAULT_APPEARANCE, "handoff": True}}, token)
    receiver = Receiver(gateway, token, webhooks[0], webhooks[1])
    try:
        browser.load(url)
        browser.js("sessionStorage.clear();")  # a new visitor
        browser.load(url)
        browser.wait_state("ready")
        browser.open_widget()
        question = browser.part("#q")
        question.send_keys(QUESTION)
        question.send_keys(Keys.ENTER)
        browser.wait("the answer", lambda: browser.js(
            "const a = all('[data-role=assistant]');"
            "return a.length > 0 && a[a.length - 1].getAttribute('data-status') === 'complete';"))
        browser.part("[data-role=assistant]:last-of-type .k button[aria-pressed]:nth-of-type(2)").click()
        browser.wait("the 👎 to be recorded", lambda: browser.js(
            "const b = all('[data-role=assistant]').pop().querySelectorAll('.k button');"
            "return b.length === 2 && b[1].getAttribute('aria-pressed') === 'true';"))
        browser.part(".hb").click()
        browser.wait("the handoff form", lambda: browser.js("return !!q('.ho input[type=email]');"))
        labels = browser.js("return all('.ho label').map((l) => l.textContent);")
        if labels[0] != "Your email address":
            raise Failure(f"the handoff form should speak English: {labels!r}")
        browser.part(".ho input[type=email]").send_keys("visitor@example.org")
        browser.part(".ho textarea").send_keys("Please email me about returns.")
        browser.part(".ho input[type=checkbox]").click()
        browser.part(".ho button").click()
        browser.wait("the request to be sent", lambda: browser.js(
            "return !q('.ho') && all('.m[role=status]').some((m) => m.textContent.startsWith('Sent.'));"))
        browser.screenshot("handoff-en.png")
        data = receiver.handoff("visitor@example.org")
        transcript = data.get("transcript") or []
        answer = transcript[-1] if transcript else {}
        if data["handoff"].get("note") != "Please email me about returns." or not data["handoff"].get("consent", "").startswith("I agree") \
                or [m.get("role") for m in transcript] != ["visitor", "assistant"] or transcript[0].get("text") != QUESTION \
                or not answer.get("citations") or (answer.get("feedback") or {}).get("vote") != "down":
            raise Failure(f"the signed webhook should carry the request, the transcript with citations and the 👎: {data!r}")
    finally:
        receiver.close()
        gateway_call(gateway, "PATCH", f"/v1/widgets/{widget_id}", {"appearance": DEFAULT_APPEARANCE}, token)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY", "http://127.0.0.1:8080"),
                        help="the gateway's base URL (default: $GATEWAY or http://127.0.0.1:8080)")
    parser.add_argument("--widget-id", help="a widget allowed on http://localhost:<allowed-port> "
                                            "(default: run scripts/demo-seed.sh)")
    parser.add_argument("--allowed-port", type=int, help="port of the allowed page, served as http://localhost:PORT "
                                                         "(default: from --allowed-origin, else a free port)")
    parser.add_argument("--allowed-origin", help="the allowed origin, http://localhost:PORT (sets --allowed-port)")
    parser.add_argument("--denied-port", type=int, help="port of the not-allowed page, http://127.0.0.1:PORT "
                                                        "(default: a free port)")
    parser.add_argument("--artifacts", default=str(REPO / "test-artifacts" / "browser"),
                        help="where screenshots and the browser console go (default: test-artifacts/browser)")
    parser.add_argument("--expect-citation", default="Returns and shipping",
                        help="a citation must contain this (the Markdown document's title)")
    parser.add_argument("--expect-answer", default="30",
                        help="the answer must contain this (empty: no check)")
    parser.add_argument("--customer-id", default="6d656d6f-0000-4000-8000-00000000ac3e",
                        help="the widget's customer, for the themed scenario's development token (default: the demo's)")
    parser.add_argument("--webhooks", help="a customer's webhook receiver (scripts/webhook-receiver.py), "
                                           "e.g. https://127.0.0.1:8093/: the handoff must arrive there, signed")
    parser.add_argument("--webhooks-control", help="that receiver's control API, e.g. http://127.0.0.1:8094")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    gateway = args.gateway.rstrip("/")
    if bool(args.webhooks) != bool(args.webhooks_control):
        parser.error("--webhooks and --webhooks-control go together")
    webhooks = (args.webhooks.rstrip("/") + "/browser", args.webhooks_control) if args.webhooks else None

    if args.allowed_origin:
        parts = urllib.parse.urlsplit(args.allowed_origin)
        if parts.scheme != "http" or parts.hostname != "localhost" or not parts.port:
            parser.error("--allowed-origin must look like http://localhost:PORT")
        if args.allowed_port and args.allowed_port != parts.port:
            parser.error("--allowed-origin and --allowed-port disagree")
        args.allowed_port = parts.port
    if args.widget_id and not args.allowed_port:
        parser.error("with --widget-id, pass --allowed-port (or --allowed-origin): the port the widget allows")
    allowed_port = args.allowed_port or free_port()
    denied_port = args.denied_port or free_port()
    if denied_port == allowed_port:
        parser.error("--allowed-port and --denied-port must differ")
    allowed_url = f"http://localhost:{allowed_port}/"
    denied_url = f"http://127.0.0.1:{denied_port}/"
    pathlib.Path(args.artifacts).mkdir(parents=True, exist_ok=True)

    results = {}
    servers, browser = [], None
    try:
        check_widget_script(gateway)
        widget_id = args.widget_id or seed_widget(gateway, f"http://localhost:{allowed_port}")
        template = (REPO / "demo" / "index.html").read_text()
        page = template.replace("__GATEWAY__", gateway).replace("__WIDGET_ID__", widget_id).encode()
        servers = [serve(allowed_port, page), serve(denied_port, page)]
        print(f"allowed page: {allowed_url}  denied page: {denied_url}  widget: {widget_id}", flush=True)
        browser = Browser(args)
    except Failure as error:
        print(f"FAIL setup: {error}", flush=True)
        print(f"0 passed, {6 if args.webhooks else 5} failed", flush=True)
        return 1

    def run(name, function, *function_args):
        try:
            value = function(browser, *function_args)
            print(f"PASS {name}", flush=True)
            results[name] = value if value is not None else True
        except Exception as error:  # a failed scenario must not stop the others or lose artifacts
            if not isinstance(error, Failure):
                traceback.print_exc()
            print(f"FAIL {name}: {error}", flush=True)
            results[name] = None
            try:
                browser.screenshot(f"failure-{name}.png")
            except WebDriverException:
                pass

    try:
        run("allowed", functools.partial(scenario_allowed, url=allowed_url, expected_title=args.expect_citation,
                                         expected_answer=args.expect_answer))
        if results["allowed"]:
            run("reload", scenario_reload, results["allowed"]["answer"])
        else:
            print("FAIL reload: skipped, it needs the conversation from 'allowed'", flush=True)
            results["reload"] = None
        run("renderer", scenario_renderer)
        run("denied", scenario_denied, denied_url)
        run("themed", scenario_themed, gateway, widget_id, args.customer_id, allowed_url, webhooks)
        if webhooks:
            run("handoff", scenario_handoff_english, gateway, widget_id, args.customer_id, allowed_url, webhooks)
    finally:
        browser.quit()
        for server in servers:
            server.shutdown()
    passed = sum(1 for value in results.values() if value)
    print(f"{passed} passed, {len(results) - passed} failed", flush=True)
    if passed != len(results):
        print(f"browser test failed; screenshots and browser-console.log in {args.artifacts}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
