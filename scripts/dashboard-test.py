#!/usr/bin/python3
"""scripts/dashboard-test.py: the customer dashboard (/app/) in headless Chromium against a running
stack whose gateway and Billing use the Supabase Auth and Lemon Squeezy stand-ins (scripts/test's
live stack, or scripts/dev).

One customer's journey, with screenshots of every page at 1280 and 375 px (test-artifacts/dashboard):
  sign up -> home shows the free plan -> create a widget (its name an XSS payload, shown as text)
  -> upload a Markdown file and a PDF, both reach "ready" -> conversations and unanswered panels
  -> upgrade through the stand-in's checkout page and see Starter without reloading -> export,
  and find the PDF's text in the archive -> delete the account (typing the e-mail) -> signing in
  again fails, and signing up again gives a new, empty account.
Checked throughout: no token in any URL, in localStorage or in the console; the page's CSP forbids
inline script; axe-core (axe-selenium-python) finds no serious or critical violation on any page.

Usage: scripts/dashboard-test.py --gateway http://127.0.0.1:8080 [--artifacts DIR]
"""

import argparse
import functools
import http.server
import json
import os
import pathlib
import shutil
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    sys.exit("dashboard-test: selenium is not installed; apt-get install -y chromium chromium-driver python3-selenium")
try:
    from axe_selenium_python import Axe
except ImportError:
    Axe = None

REPO = pathlib.Path(__file__).resolve().parent.parent
WAIT = 30.0
PAYLOAD = '<img src=x onerror="window.__xss=1">Help <script>window.__xss=1</script>'
QUESTION = "How long do I have to return an item?"
STRAY = 'Zorblax quantum flummoxes <img src=x onerror="window.__xss=1">?'


def log(message):
    print(f"dashboard-test: {message}", flush=True)


class Failure(Exception):
    pass


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the foreign page without logging every request."""

    def log_message(self, *args):
        pass


class Journey:
    def __init__(self, args):
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
        self.gateway = args.gateway.rstrip("/")
        self.artifacts = pathlib.Path(args.artifacts)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.axe_violations = []
        self.console = []

    # --- helpers --------------------------------------------------------------------------------
    def wait(self, what, condition, timeout=WAIT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                value = condition()
                if value:
                    return value
            except Exception as error:  # noqa: BLE001 - the element may not exist yet
                last = error
            time.sleep(0.1)
        raise Failure(f"timed out waiting for {what}" + (f" ({last})" if last else ""))

    def find(self, xpath):
        return self.wait(xpath, lambda: next((e for e in self.driver.find_elements(By.XPATH, xpath) if e.is_displayed()), None))

    def button(self, text):
        return self.find(f'//button[normalize-space()="{text}"]')

    def field(self, label):
        element = self.find(f'//label[normalize-space()="{label}"]')
        return self.driver.find_element(By.ID, element.get_attribute("for"))

    def heading(self, text):
        return self.find(f'//h1[normalize-space()="{text}"]')

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "main").text

    def page(self, name):
        """Screenshots at both widths, axe on the page, and the token checks."""
        self.check_no_token_leaks()
        signed_out = self.driver.find_element(By.TAG_NAME, "h1").text.startswith("Sign in")
        if self.driver.find_element(By.ID, "top").is_displayed() == signed_out:
            raise Failure(f"{name}: the navigation is {'shown' if signed_out else 'hidden'}")
        for width, height in ((1280, 900), (375, 800)):
            self.driver.set_window_size(width, height)
            time.sleep(0.2)
            self.driver.save_screenshot(str(self.artifacts / f"{name}-{width}.png"))
        self.driver.set_window_size(1280, 900)
        if Axe is not None:
            axe = Axe(self.driver)
            axe.inject()
            # The previewed widget is its own product surface (scripts/browser-test.py checks it); the
            # 2018 axe-core this package bundles misreads labels inside its shadow root.
            results = axe.run(context={"exclude": [["contexo-widget"]]}, options={"resultTypes": ["violations"]})
            serious = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
            for violation in serious:
                self.axe_violations.append(f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} "
                                           f"at {[node['target'] for node in violation['nodes']][:3]}")
        log(f"page ok: {name}")

    def ask_widget(self, text):
        """Opens the previewed widget, asks `text`, waits for the answer; its status and text."""
        host = self.wait("the widget on the page", lambda: self.driver.find_element(By.CSS_SELECTOR, "contexo-widget"))
        root = host.shadow_root
        launcher = root.find_element(By.CSS_SELECTOR, "button[aria-expanded]")
        if launcher.get_attribute("aria-expanded") != "true":
            launcher.click()
        count = len(root.find_elements(By.CSS_SELECTOR, "[data-role=assistant]"))
        area = self.wait("the widget's input", lambda: next((e for e in root.find_elements(By.CSS_SELECTOR, "textarea") if e.is_enabled()), None))
        area.send_keys(text)
        area.send_keys("\n")

        def finished():
            answers = root.find_elements(By.CSS_SELECTOR, "[data-role=assistant]")
            if len(answers) > count and answers[-1].get_attribute("data-status") in ("complete", "failed"):
                return answers[-1]
            return None
        answer = self.wait("the widget's answer", finished, timeout=60)
        return answer.get_attribute("data-status"), answer.text

    def foreign_origin_is_refused(self):
        token = self.session_token()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(self.artifacts)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        here = self.driver.current_url
        try:
            self.driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
            outcome = self.driver.execute_async_script("""
                const done = arguments[arguments.length - 1];
                fetch(arguments[0] + '/v1/widgets', { headers: { Authorization: 'Bearer ' + arguments[1] } })
                  .then((response) => done('answered ' + response.status), (error) => done('blocked: ' + error));""",
                self.gateway, token)
        finally:
            server.shutdown()
        if not outcome.startswith("blocked"):
            raise Failure(f"a page on another origin read the API with the customer's token: {outcome}")
        self.driver.get(here)
        self.wait("the dashboard again", lambda: self.driver.find_element(By.TAG_NAME, "h1").is_displayed())

    def hosted_elsewhere(self, port):
        """The same files from another origin, the meta tag naming the gateway: sign up, see Home,
        create a widget, all through CORS."""
        folder = self.artifacts / "elsewhere"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(REPO / "Services" / "Gateway" / "Public" / "app", folder)
        index = (folder / "index.html").read_text()
        index = index.replace('<meta name="contexo-api" content="">', f'<meta name="contexo-api" content="{self.gateway}">')
        (folder / "index.html").write_text(index.replace('"/app/app.css"', '"app.css"').replace('"/app/app.js"', '"app.js"'))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(QuietHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            self.driver.get(f"http://127.0.0.1:{port}/")
            self.heading("Sign in to Contexo")
            self.find('//a[normalize-space()="Create an account"]').click()
            self.field("E-mail").send_keys(f"elsewhere-{uuid.uuid4().hex[:8]}@example.com")
            self.field("Password").send_keys("correct horse battery")
            self.button("Create account").click()
            self.heading("Home")
            self.wait("the free plan, read across origins", lambda: "free" in self.text())
            self.find('//nav//a[normalize-space()="Widgets"]').click()
            self.field("Name").send_keys("Hosted elsewhere")
            self.button("Create widget").click()
            self.heading("Hosted elsewhere")
            self.check_no_token_leaks()
            log("page ok: the dashboard hosted on another origin")
        finally:
            server.shutdown()

    def tab_to(self, text, presses=40):
        """Presses Tab until the element named `text` has the focus (with a visible outline)."""
        body = self.driver.find_element(By.TAG_NAME, "body")
        for _ in range(presses):
            focused = self.driver.switch_to.active_element
            if focused.text.strip() == text:
                outline = self.driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", focused)
                if outline in ("none", ""):
                    raise Failure(f"{text!r} has the focus but no visible outline")
                return focused
            (focused if focused.tag_name != "html" else body).send_keys(Keys.TAB)
        raise Failure(f"{text!r} cannot be reached with Tab")

    def session_token(self):
        raw = self.driver.execute_script("return sessionStorage.getItem('contexo.session')")
        return json.loads(raw)["access_token"] if raw else None

    def check_no_token_leaks(self):
        token = self.session_token()
        if token and token in self.driver.current_url:
            raise Failure("a token is in the URL")
        stored = self.driver.execute_script("return JSON.stringify(Object.assign({}, localStorage))")
        if token and token in stored or "access_token" in stored:
            raise Failure("a token is in localStorage")
        for entry in self.driver.get_log("browser"):
            self.console.append(entry)
            if token and token in entry.get("message", ""):
                raise Failure("a token was written to the console")
        if self.driver.execute_script("return window.__xss === 1"):
            raise Failure("the XSS payload ran")

    def api(self, method, path, body=None, token=None):
        request = urllib.request.Request(self.gateway + path, method=method, data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Authorization", f"Bearer {token or self.session_token()}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()

    # --- the journey ------------------------------------------------------------------------------
    def run(self):
        email = f"journey-{uuid.uuid4().hex[:8]}@example.com"
        password = "correct horse battery"
        with urllib.request.urlopen(self.gateway + "/app/", timeout=10) as response:
            policy = response.headers.get("Content-Security-Policy", "")
        if "script-src 'self'" not in policy or "unsafe-inline" in policy or "unsafe-eval" in policy:
            raise Failure(f"the dashboard's CSP allows inline or eval'd script: {policy}")

        self.driver.get(self.gateway + "/app/")
        self.heading("Sign in to Contexo")
        # The first load: bytes over the wire (every file, config included) and the time until the
        # sign-in form is on screen and focused, from the navigation's start.
        load = self.driver.execute_script("""
            const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
            return { bytes: entries.reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0),
                     files: entries.length, ready: Math.round(performance.now()) };""")
        log(f"first load: {load['bytes']} bytes in {load['files']} requests; sign-in form ready after {load['ready']} ms")
        if load["bytes"] > 100_000:
            raise Failure(f"the first load transferred {load['bytes']} bytes (more than 100 KB)")
        if "any e-mail and password creates an account" not in self.text():
            raise Failure("the sign-in page does not say it is a development stand-in")
        if self.driver.find_element(By.ID, "top").is_displayed():
            raise Failure("the signed-out sign-in page shows the dashboard's navigation")
        self.page("sign-in")
        # Keyboard only, from here to Home and on to Widgets: Tab to the link, Enter, type, Tab, Enter.
        self.tab_to("Create an account").send_keys(Keys.ENTER)
        self.heading("Create your Contexo account")
        focused = self.driver.switch_to.active_element
        if focused.get_attribute("type") != "email":
            raise Failure("the sign-up form does not start with the e-mail field focused")
        focused.send_keys(email, Keys.TAB)
        self.driver.switch_to.active_element.send_keys(password, Keys.ENTER)
        self.heading("Home")
        self.wait("the free plan on Home", lambda: "free" in self.text())
        self.page("home")
        self.tab_to("Widgets").send_keys(Keys.ENTER)
        self.heading("Widgets")
        self.find('//nav//a[normalize-space()="Home"]').click()
        self.heading("Home")

        # A widget whose name is an XSS payload: shown as text everywhere.
        self.find('//nav//a[normalize-space()="Widgets"]').click()
        self.heading("Widgets")
        self.field("Name").send_keys(PAYLOAD)
        self.field("Allowed domains (one per line)").send_keys("https://shop.example.com")
        self.button("Create widget").click()
        self.wait("the widget's page", lambda: self.driver.find_element(By.TAG_NAME, "h1").text == PAYLOAD)
        self.find('//h2[normalize-space()="Put it on your site"]')
        self.page("widget-settings")
        widget_id = self.driver.current_url.split("/widgets/")[1].split("/")[0]

        # Knowledge: a Markdown file and a PDF, uploaded together, both reach "ready".
        self.find('//nav[@aria-label="Widget"]//a[normalize-space()="Knowledge"]').click()
        self.find('//h2[normalize-space()="Add knowledge"]')
        picker = self.driver.find_element(By.CSS_SELECTOR, 'input[type="file"]')
        docs = sorted((REPO / "demo" / "docs").iterdir())
        markdown = next(p for p in docs if p.suffix == ".md")
        pdf = next(p for p in docs if p.suffix == ".pdf")
        picker.send_keys(f"{markdown}\n{pdf}")
        self.wait("both documents ready", lambda: self.text().count("ready") >= 2, timeout=90)
        self.page("knowledge")

        # The live preview: the real widget.js on this page, once this origin is allowed.
        self.find('//nav[@aria-label="Widget"]//a[normalize-space()="Settings"]').click()
        self.button("Allow this dashboard and try it").click()
        status, answer = self.ask_widget(QUESTION)
        if status != "complete" or "30" not in answer:
            raise Failure(f"the preview did not answer from the documents: {status} {answer!r}")
        status, answer = self.ask_widget(STRAY)
        if status != "complete":
            raise Failure(f"the stray question failed: {answer!r}")
        self.page("widget-preview")

        # Conversations: the transcript, then the unanswered question answered in one click.
        self.find('//nav[@aria-label="Widget"]//a[normalize-space()="Conversations"]').click()
        self.find('//h2[normalize-space()="Unanswered questions"]')
        self.wait("the stray question, as text", lambda: STRAY in self.text())
        self.find('//ul[contains(@class,"list")]//button').click()
        self.wait("the transcript", lambda: QUESTION in self.text() and "Transcript" in self.text())
        self.page("conversations")
        self.button("Write the answer").click()
        self.field("Your answer").send_keys("Zorblax quantum flummoxes are sold out until spring.")
        self.button("Add to the knowledge").click()
        self.wait("the re-asked question answered", lambda: "Answered now:" in self.text(), timeout=90)
        self.page("unanswered-answered")
        # The answer became a document whose title holds the visitor's payload: text there too.
        self.find('//nav[@aria-label="Widget"]//a[normalize-space()="Knowledge"]').click()
        self.wait("the answer's document, titled with the question as text", lambda: f"Answer: {STRAY}" in self.text())

        # A page on another origin cannot use the customer's token against the API (CORS).
        self.foreign_origin_is_refused()

        # Upgrade through the stand-in's checkout page, and back.
        self.find('//nav//a[normalize-space()="Billing"]').click()
        self.heading("Billing")
        self.page("billing")
        self.button("Choose Starter").click()
        self.button("Pay (test mode)").click()
        self.find('//a[normalize-space()="Back to Contexo"]').click()
        self.heading("Billing")
        self.wait("the Starter plan without a reload", lambda: "starter · active" in self.text(), timeout=45)
        self.page("billing-upgraded")

        # Export: the archive holds the PDF's text.
        self.find('//nav//a[normalize-space()="Account"]').click()
        self.heading("Account")
        # The activity log names what the journey did, newest first (S10).
        self.wait("the activity log", lambda: "Widget created" in self.text() and "Document added" in self.text()
                  and "Checkout started" in self.text() and "Payment provider: subscription created" in self.text())
        # A webhook endpoint: added with its secret shown once; a test event is sent and its failed
        # attempt (nothing listens on port 9) is listed with the reason.
        self.field("Address (https)").send_keys("https://127.0.0.1:9/contexo-hooks")
        self.find('//label[starts-with(normalize-space(), "A document is ready")]').click()
        self.button("Add endpoint").click()
        self.wait("the endpoint's secret", lambda: "Copy the signing secret now" in self.text() and "whsec_" in self.text())
        self.wait("the endpoint in the list", lambda: "https://127.0.0.1:9/contexo-hooks" in self.text()
                  and "Events: handoff.requested, document.ready" in self.text())
        self.button("Send test event").click()
        self.wait("the test delivery and its attempt", lambda: (self.button("Deliveries").click() or True)
                  and "webhook.test" in self.text() and ", last: " in self.text() and "last: waiting" not in self.text(), timeout=30)
        self.page("account-webhooks")
        self.button("Export my data").click()
        self.wait("the export", lambda: "Done:" in self.text(), timeout=60)
        self.page("account")
        started = json.loads(self.api("POST", "/v1/account/export"))
        archive = self.api("GET", started["download_url"]).decode()
        pdf_words = os.environ.get("CONTEXO_DASHBOARD_PDF_PHRASE", "")
        lines = [json.loads(line) for line in archive.splitlines() if line.strip()]
        chunks = [line["row"] for line in lines if line.get("table") == "ingest.chunks"]
        pdf_documents = {line["row"]["id"] for line in lines if line.get("table") == "ingest.documents"
                         and line["row"].get("content_type") == "application/pdf"}
        if not any(chunk["document_id"] in pdf_documents and len(chunk.get("content", "")) > 20 for chunk in chunks):
            raise Failure("the export holds no text of the PDF")
        if pdf_words and pdf_words not in archive:
            raise Failure(f"the export lacks {pdf_words!r}")
        if not any(line.get("table") == "chat.audit_trail" and line["row"]["action"] == "widget.created" for line in lines):
            raise Failure("the export lacks the audit trail")
        if not any(line.get("table") == "chat.webhook_endpoints" and "secret" not in line["row"] for line in lines):
            raise Failure("the export should hold the webhook endpoint, without its secret")
        if lines[-1].get("record") != "end":
            raise Failure("the export has no end line")
        if not any(line.get("table") == "chat.widgets" and line["row"]["id"].lower() == widget_id.lower() for line in lines):
            raise Failure("the export lacks the widget")

        # Delete the account, typing the e-mail.
        old_token = self.session_token()
        self.button("Delete my account").click()
        confirm = self.field(f"Type {email} to confirm")
        confirm.send_keys(email)
        self.find('//dialog//button[normalize-space()="Delete my account"]').click()
        self.heading("Sign in to Contexo")
        try:
            self.api("GET", "/v1/widgets", token=old_token)
            raise Failure("the deleted account's token still works")
        except urllib.error.HTTPError as error:
            if error.code != 401:
                raise Failure(f"the deleted account's token got {error.code}, not 401") from error
        self.field("E-mail").send_keys(email)
        self.field("Password").send_keys(password)
        self.button("Sign in").click()
        self.wait("the refused sign-in", lambda: "Wrong e-mail or password." in self.text())
        self.page("signed-out")
        self.find('//a[normalize-space()="Create an account"]').click()
        self.field("E-mail").send_keys(email)
        self.field("Password").send_keys(password)
        self.button("Create account").click()
        self.heading("Home")
        self.find('//nav//a[normalize-space()="Widgets"]').click()
        self.wait("an empty account", lambda: "No widget yet" in self.text())
        self.check_no_token_leaks()

        # Sign out everywhere, then in with Google (PKCE through the stand-in's consent page): the
        # one-time code leaves the URL at once, and no token ever enters it.
        self.find('//nav//a[normalize-space()="Account"]').click()
        self.button("Sign out everywhere").click()
        self.heading("Sign in to Contexo")
        self.button("Continue with Google").click()
        self.find('//h1[normalize-space()="Choose an account"]')
        self.driver.find_element(By.ID, "email").send_keys(f"google-{email}")
        self.find('//button[normalize-space()="Continue"]').click()
        self.heading("Home")
        if "code=" in self.driver.current_url:
            raise Failure(f"the OAuth code stayed in the URL: {self.driver.current_url}")
        self.check_no_token_leaks()
        if self.axe_violations:
            raise Failure("axe found serious or critical violations:\n  " + "\n  ".join(self.axe_violations))

    def quit(self):
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--artifacts", default=str(REPO / "test-artifacts" / "dashboard"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--other-origin-port", type=int,
                        help="also run the dashboard's files from http://127.0.0.1:PORT (listed in the gateway's CONTEXO_DASHBOARD_ORIGINS)")
    args = parser.parse_args()
    if Axe is None:
        log("axe-selenium-python is not installed: the accessibility check is skipped")
        if os.environ.get("CONTEXO_DASHBOARD_REQUIRE_AXE"):
            return 1
    journey = Journey(args)
    try:
        journey.run()
        if args.other_origin_port:
            journey.hosted_elsewhere(args.other_origin_port)
        log("the customer journey passed")
        return 0
    except Exception as error:  # noqa: BLE001
        log(f"FAILED: {error}")
        traceback.print_exc()
        try:
            journey.driver.save_screenshot(str(journey.artifacts / "failure.png"))
            (journey.artifacts / "failure-page.txt").write_text(journey.driver.find_element(By.TAG_NAME, "body").text)
        except Exception:  # noqa: BLE001
            pass
        return 1
    finally:
        (journey.artifacts / "console.json").write_text(json.dumps(journey.console, indent=1))
        journey.quit()


if __name__ == "__main__":
    sys.exit(main())
