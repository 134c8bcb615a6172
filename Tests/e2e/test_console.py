"""The support console in a real browser: Debian's chromium, headless, driven through chromium-driver and
Selenium, against the real gateway, stand-in and aiosmtpd. Screenshots of each step go to
$CONSOLE_SCREENSHOTS_DIR if set, else to the test's tmp dir (pytest keeps the last runs' tmp dirs)."""

import json
import os
import pathlib
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from harness import ALICE, ALICE_EMAIL, KEYS, HTTPAnswer, free_port

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Plain HTTP on loopback: the session cookie may go without Secure (console.secure_cookie: false).
CONSOLE = {"console.secure_cookie": False}
WAIT = 30  # the longest wait for a page or a delivery on a busy 2-core machine; every wait ends on its condition


@pytest.fixture
def console(stack):
    return stack.start_gateway(overrides=CONSOLE)


@pytest.fixture
def shots(tmp_path, request):
    """Saves numbered screenshots of a test's steps."""
    directory = pathlib.Path(os.environ.get("CONSOLE_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)

    def save(browser, name):
        browser.save_screenshot(str(directory / f"{request.node.name}-{name}.png"))

    return save


@pytest.fixture
def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in [
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--disable-extensions",
        "--no-first-run",
    ]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # A dialog left open is reported, not dismissed: the test looks for it.
    options.set_capability("unhandledPromptBehavior", "ignore")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(method, url, body=None, headers=None):
    """One request, its redirect not followed (the harness's `http` follows them)."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return HTTPAnswer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return HTTPAnswer(error.code, error.headers, error.read())


def until(browser, condition, what):
    # A page that moves on (a redirect, the delivery page's refresh) while the condition reads an
    # element makes it stale: that is "not yet", as a missing element is.
    return WebDriverWait(
        browser, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    ).until(lambda b: condition(b), message=what)


def loaded(browser, path):
    """Waits for the page at `path` (its document complete)."""
    until(
        browser,
        lambda b: (
            urllib.parse.urlparse(b.current_url).path == path
            and b.execute_script("return document.readyState") == "complete"
        ),
        f"page {path}",
    )


def sign_in(browser, gateway, key="backend"):
    browser.get(gateway.url + "/console")
    loaded(browser, "/console/sign-in")
    browser.find_element(By.ID, "api_key").send_keys(KEYS[key][0])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until(browser, lambda b: b.find_elements(By.ID, "agent-name"), "signed in")


def find_user(browser, query):
    field = browser.find_element(By.ID, "query")
    field.send_keys(query)
    field.submit()
    until(browser, lambda b: b.find_elements(By.ID, "identity-id"), "identity page")


def cookie_header(browser):
    return "rg_console=" + browser.get_cookie("rg_console")["value"]


def console_errors(browser):
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def assert_no_dialog(browser):
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text


def test_agent_finds_the_user_previews_sends_and_watches_it_arrive(stack, browser, shots):
    # The SMTP server is not up yet: the delivery stays unfinished until the test starts it, so the
    # page is seen to update itself from `retrying` to `sent`.
    smtp_port = free_port()
    console = stack.start_gateway(
        smtp_url=f"smtp://127.0.0.1:{smtp_port}/?disable_starttls=true",
        overrides={**CONSOLE, "delivery.max_attempts": 100},
    )
    sign_in(browser, console)
    shots(browser, "1-find")
    find_user(browser, ALICE_EMAIL)
    assert browser.find_element(By.ID, "identity-id").text == ALICE
    assert ALICE_EMAIL in browser.find_element(By.ID, "addresses").text
    assert browser.find_element(By.ID, "identity-state").text == "active"
    shots(browser, "2-identity")
    browser.find_element(By.ID, "send-link").click()
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "send form")
    Select(browser.find_element(By.ID, "method")).select_by_value("link")
    assert browser.find_element(By.CSS_SELECTOR, "input[name=recipient][value='address-0']").is_selected()
    browser.find_element(By.ID, "reason").send_keys("TICKET-1001 locked out")
    browser.find_element(By.ID, "preview-button").click()
    preview = until(browser, lambda b: b.find_elements(By.ID, "preview"), "preview")[0]
    assert "recovery.invalid/preview-only" in browser.find_element(By.ID, "preview-text").text
    assert browser.find_element(By.ID, "preview-subject").text
    assert "fake" in preview.text
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "reason"))
    shots(browser, "3-preview")
    assert console.deliveries() == []  # a preview sends nothing
    browser.find_element(By.ID, "send-button").click()
    until(browser, lambda b: b.find_elements(By.ID, "delivery"), "delivery page")
    assert browser.find_element(By.ID, "delivery").get_attribute("data-final") == "false"
    browser.execute_script("window.notReloaded = true")
    until(browser, lambda b: b.find_element(By.ID, "status").text == "retrying", "status retrying")
    shots(browser, "4-delivery-retrying")
    smtp = stack.start_smtp(port=smtp_port, name="late-smtp")
    # The page updates itself (its script polls) until the delivery is final: no reload.
    until(browser, lambda b: b.find_element(By.ID, "status").text == "sent", "status sent")
    assert browser.execute_script("return window.notReloaded") is True
    assert browser.find_element(By.ID, "smtp-reply").text.startswith("250")
    shots(browser, "5-delivery-sent")
    [message] = smtp.messages()
    assert message["To"].addresses[0].addr_spec == ALICE_EMAIL
    [event] = [e for e in console.audit_ndjson() if e["action"] == "email.requested"]
    assert event["actor"] == "backend" and event["source_ip"] == "127.0.0.1"
    assert event["details"]["reason"] == "TICKET-1001 locked out"
    assert console_errors(browser) == []


def test_double_submit_sends_one_email(stack, console, browser):
    sign_in(browser, console)
    browser.get(f"{console.url}/console/identities/{ALICE}/send")
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "send form")
    browser.find_element(By.ID, "reason").send_keys("TICKET-1002")
    # The same rendered form posted twice at once (a double click), then once more by its button.
    statuses = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const form = document.getElementById("send-form");
        const body = () => { const d = new FormData(form); d.set("action", "send"); return new URLSearchParams(d); };
        Promise.all([1, 2].map(() => fetch(form.getAttribute("action"), {method: "POST", body: body(), redirect: "manual"})))
            .then(answers => done(answers.map(a => a.type + " " + a.status)));
    """)
    assert statuses == ["opaqueredirect 0", "opaqueredirect 0"]
    browser.find_element(By.ID, "send-button").click()
    until(
        browser,
        lambda b: b.find_elements(By.ID, "status") and b.find_element(By.ID, "status").text == "sent",
        "status sent",
    )
    assert len(console.deliveries()) == 1
    assert stack.smtp.count() == 1


def test_back_and_resubmit_sends_once_and_a_new_send_sends_again(stack, console, browser, shots):
    sign_in(browser, console)
    send_path = f"/console/identities/{ALICE}/send"
    browser.get(console.url + send_path)
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "send form")
    browser.find_element(By.ID, "reason").send_keys("TICKET-1003")
    browser.find_element(By.ID, "send-button").click()
    until(browser, lambda b: b.find_elements(By.ID, "status"), "delivery page")
    delivery = urllib.parse.urlparse(browser.current_url).path
    # Back: the form again, with its key (from the back/forward cache, or fetched anew and then
    # saying what it sent); the agent submits it once more.
    browser.back()
    loaded(browser, send_path)
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "the form again")
    shots(browser, "back")
    reason = browser.find_element(By.ID, "reason")
    if not reason.get_attribute("value"):
        reason.send_keys("TICKET-1003")
    browser.find_element(By.ID, "send-button").click()
    until(
        browser,
        lambda b: (
            urllib.parse.urlparse(b.current_url).path == delivery
            and b.find_elements(By.ID, "status")
            and b.find_element(By.ID, "status").text == "sent"
        ),
        "same delivery, sent",
    )
    assert len(console.deliveries()) == 1
    # The form opened again says what it sent; a new send, started on purpose, sends a second email.
    browser.get(console.url + send_path)
    until(browser, lambda b: b.find_elements(By.ID, "new-send-button"), "start a new send")
    assert delivery in browser.find_element(By.ID, "already-sent").get_attribute("innerHTML")
    shots(browser, "already-sent")
    browser.find_element(By.ID, "new-send-button").click()
    until(
        browser,
        lambda b: b.find_elements(By.ID, "send-form") and not b.find_elements(By.ID, "already-sent"),
        "a new form",
    )
    browser.find_element(By.ID, "reason").send_keys("TICKET-1004")
    browser.find_element(By.ID, "send-button").click()
    until(
        browser,
        lambda b: (
            b.find_elements(By.ID, "status")
            and b.find_element(By.ID, "status").text == "sent"
            and urllib.parse.urlparse(b.current_url).path != delivery
        ),
        "second delivery, sent",
    )
    assert len(console.deliveries()) == 2
    until(browser, lambda b: stack.smtp.count() == 2, "two emails")


def test_another_address_needs_the_any_recipient_scope_and_comes_with_a_warning(stack, console, browser, shots):
    sign_in(browser, console)
    browser.get(f"{console.url}/console/identities/{ALICE}/send")
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "send form")
    assert browser.find_elements(By.ID, "other_recipient") == []
    browser.find_element(By.ID, "sign-out").click()
    loaded(browser, "/console/sign-in")
    sign_in(browser, console, key="support")
    browser.get(f"{console.url}/console/identities/{ALICE}/send")
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "send form")
    assert "Warning" in browser.find_element(By.ID, "other-warning").text
    browser.find_element(By.ID, "recipient-other").click()
    browser.find_element(By.ID, "other_recipient").send_keys("helpdesk-verified@example.org")
    browser.find_element(By.ID, "reason").send_keys("TICKET-1005 new address proven")
    shots(browser, "other-address")
    browser.find_element(By.ID, "send-button").click()
    until(
        browser,
        lambda b: b.find_elements(By.ID, "status") and b.find_element(By.ID, "status").text == "sent",
        "status sent",
    )
    [message] = stack.smtp.messages()
    assert message["To"].addresses[0].addr_spec == "helpdesk-verified@example.org"
    [event] = [e for e in console.audit_ndjson() if e["action"] == "email.requested"]
    assert event["actor"] == "support" and event["details"]["recipient_override"] == "true"


def test_key_without_send_scope_sees_no_send_form_and_a_forged_post_is_403(stack, console, browser, shots):
    sign_in(browser, console, key="reader")
    find_user(browser, ALICE)
    assert browser.find_elements(By.ID, "send-link") == []
    token = browser.find_element(By.CSS_SELECTOR, "form.signout input[name=csrf]").get_attribute("value")
    browser.get(f"{console.url}/console/identities/{ALICE}/send")
    until(browser, lambda b: b.find_elements(By.ID, "problem"), "error page")
    assert "recovery:send" in browser.find_element(By.ID, "problem").text
    shots(browser, "forbidden")
    forged = urllib.parse.urlencode(
        {
            "csrf": token,
            "idempotency_key": "forged-1",
            "method": "link",
            "template": "recovery",
            "recipient": ALICE_EMAIL,
            "reason": "forged",
            "action": "send",
        }
    ).encode()
    answer = fetch(
        "POST",
        f"{console.url}/console/identities/{ALICE}/send",
        forged,
        {"Cookie": cookie_header(browser), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 403, answer
    assert console.deliveries() == [] and stack.smtp.count() == 0


def test_stale_csrf_token_is_refused(stack, console, browser):
    sign_in(browser, console)
    browser.get(f"{console.url}/console/identities/{ALICE}/send")
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "send form")
    old = browser.find_element(By.CSS_SELECTOR, "#send-form input[name=csrf]").get_attribute("value")
    browser.find_element(By.ID, "sign-out").click()
    loaded(browser, "/console/sign-in")
    sign_in(browser, console)
    browser.get(f"{console.url}/console/identities/{ALICE}/send")
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "send form")
    browser.execute_script("document.querySelector('#send-form input[name=csrf]').value = arguments[0]", old)
    browser.find_element(By.ID, "reason").send_keys("TICKET-1003")
    browser.find_element(By.ID, "send-button").click()
    until(browser, lambda b: b.find_elements(By.ID, "problem"), "error page")
    assert "expired" in browser.find_element(By.ID, "problem").text
    assert console.deliveries() == [] and stack.smtp.count() == 0


def test_sign_out_ends_the_session(console, browser, shots):
    sign_in(browser, console)
    cookie = cookie_header(browser)
    assert fetch("GET", console.url + "/console/users", headers={"Cookie": cookie}).status == 200
    browser.find_element(By.ID, "sign-out").click()
    loaded(browser, "/console/sign-in")
    shots(browser, "signed-out")
    answer = fetch("GET", console.url + "/console/users", headers={"Cookie": cookie})
    assert answer.status == 303 and answer.headers["Location"] == "/console/sign-in"
    browser.get(console.url + "/console/users")
    loaded(browser, "/console/sign-in")


def test_a_script_in_a_trait_shows_as_text_and_does_not_run(stack, console, browser, shots):
    evil = "<script>alert('trait')</script><img src=x onerror=alert(2)>"
    identity = stack.stand_in.create_identity({"email": "evil@example.com", "name": evil})
    sign_in(browser, console)
    find_user(browser, identity["id"])
    assert browser.find_element(By.ID, "identity-id").text == identity["id"]
    assert evil in browser.find_element(By.ID, "traits").text
    assert browser.find_elements(By.CSS_SELECTOR, "#traits img, #traits script") == []
    assert_no_dialog(browser)
    assert console_errors(browser) == []
    shots(browser, "escaped")


def test_every_console_page_carries_the_security_headers(stack, console, browser):
    sign_in(browser, console)
    cookie = {"Cookie": cookie_header(browser)}
    answer = console.send({"identity_id": ALICE, "reason": "headers"}, "csp-1", wait=10)
    delivery = answer.json()["id"]
    pages = [
        "/console/sign-in",
        "/console/users",
        f"/console/identities/{ALICE}",
        f"/console/identities/{ALICE}/send",
        f"/console/deliveries/{delivery}",
        f"/console/deliveries/{delivery}/status",
        "/console/audit",
        "/console/audit/verify",
        "/console/audit/export?format=csv",
        "/console/assets/console.css",
        "/console/assets/console.js",
        f"/console/deliveries/{ALICE}",
    ]
    for page in pages:
        answer = fetch("GET", console.url + page, headers=cookie)
        assert answer.status in (200, 404), (page, answer)
        assert answer.headers["Content-Security-Policy"] == CSP, page
        assert answer.headers["X-Content-Type-Options"] == "nosniff", page
        assert answer.headers["Referrer-Policy"] == "no-referrer", page
        assert answer.headers["Cache-Control"] == "no-store", page
        assert "Authorization" not in answer.body.decode(errors="replace")
    # The page the browser shows is the same.
    browser.get(console.url + f"/console/deliveries/{delivery}")
    until(browser, lambda b: b.find_element(By.ID, "status").text == "sent", "status sent")
    assert console_errors(browser) == []


def focus_by_tab(browser, element_id, limit=40):
    """Presses Tab until the element with `element_id` has the focus."""
    for _ in range(limit):
        if browser.switch_to.active_element.get_attribute("id") == element_id:
            return
        ActionChains(browser).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached #{element_id}")


def test_keyboard_only_send_flow(stack, console, browser, shots):
    browser.get(console.url + "/console/sign-in")
    loaded(browser, "/console/sign-in")
    # The key field has the focus on arrival; Enter submits.
    browser.switch_to.active_element.send_keys(KEYS["backend"][0] + Keys.ENTER)
    until(browser, lambda b: b.find_elements(By.ID, "query"), "find page")
    browser.switch_to.active_element.send_keys(ALICE_EMAIL + Keys.ENTER)
    until(browser, lambda b: b.find_elements(By.ID, "identity-id"), "identity page")
    focus_by_tab(browser, "send-link")
    shots(browser, "1-focus-send-link")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "send form")
    focus_by_tab(browser, "reason")
    browser.switch_to.active_element.send_keys("TICKET-1004 by keyboard")
    focus_by_tab(browser, "send-button")
    shots(browser, "2-focus-send-button")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    until(
        browser,
        lambda b: b.find_elements(By.ID, "status") and b.find_element(By.ID, "status").text == "sent",
        "status sent",
    )
    assert stack.smtp.count() == 1


def test_readable_at_360_pixels(console, browser, shots):
    browser.set_window_size(360, 800)
    sign_in(browser, console)
    for path, name in [(f"/console/identities/{ALICE}", "identity"), (f"/console/identities/{ALICE}/send", "send")]:
        browser.get(console.url + path)
        loaded(browser, path)
        # Nothing wider than the screen: no sideways scrolling.
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), path
        shots(browser, name)


def test_auditor_filters_pages_verifies_and_exports(stack, console, browser, shots):
    for n in range(3):
        assert console.send({"identity_id": ALICE, "reason": f"T-{n}"}, f"audit-{n}").status == 202
    sign_in(browser, console)
    browser.get(console.url + "/console/audit?actor=backend&action=email.requested&limit=2")
    loaded(browser, "/console/audit")
    rows = browser.find_elements(By.CSS_SELECTOR, "#events tbody tr")
    assert len(rows) == 2 and all("email.requested" in row.text for row in rows)
    first_page = [row.text for row in rows]
    browser.find_element(By.ID, "next-page").click()
    until(browser, lambda b: "cursor=" in b.current_url, "next page")
    rows = browser.find_elements(By.CSS_SELECTOR, "#events tbody tr")
    assert len(rows) == 1 and rows[0].text not in first_page
    browser.get(console.url + "/console/audit")
    loaded(browser, "/console/audit")
    shots(browser, "1-audit")
    browser.find_element(By.LINK_TEXT, "Verify the chain").click()
    until(browser, lambda b: b.find_elements(By.ID, "verification"), "verification")
    assert browser.find_element(By.ID, "verification").text.startswith("The chain verifies")
    shots(browser, "2-verified")
    # A bad filter is named next to its field.
    browser.get(console.url + "/console/audit?since=yesterday")
    until(browser, lambda b: b.find_elements(By.ID, "since-error"), "filter error")
    cookie = {"Cookie": cookie_header(browser)}
    csv = fetch("GET", console.url + "/console/audit/export?format=csv&action=email.requested", headers=cookie)
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert csv.headers["Content-Disposition"] == 'attachment; filename="audit-events.csv"'
    assert len(csv.body.decode().strip().splitlines()) == 1 + 3
    ndjson = fetch("GET", console.url + "/console/audit/export?format=ndjson", headers=cookie)
    assert [json.loads(line)["seq"] for line in ndjson.body.decode().splitlines()] == [
        e["seq"] for e in console.audit_ndjson()
    ]
    # A key without audit:read has no auditor's view.
    browser.find_element(By.ID, "sign-out").click()
    loaded(browser, "/console/sign-in")
    sign_in(browser, console, key="support")
    assert browser.find_elements(By.LINK_TEXT, "Audit log") == []
    browser.get(console.url + "/console/audit")
    until(browser, lambda b: b.find_elements(By.ID, "problem"), "error page")
    assert "audit:read" in browser.find_element(By.ID, "problem").text
