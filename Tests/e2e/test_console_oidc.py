"""The console signed in through a real, third-party OpenID provider (oidc-provider-mock from PyPI,
run as its own process) in Debian's Chromium: the code flow with PKCE, roles mapped to scopes, least
privilege page by page, the delivery's story, sign-out at the provider; and two gateway replicas on
one PostgreSQL behind nginx (round robin), where a session, its forms and its end hold on both.

The ID token checks themselves (another key, another audience, expired, another sign-in's nonce)
are Tests/OIDCTests, with tokens signed by real keys; here the provider signs."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import urllib.parse

import pytest
from selenium.webdriver.common.by import By

from harness import ALICE, ALICE_EMAIL, REPO, free_port, http, wait_for
import test_console
from test_console import console_errors, fetch, loaded, until


def gateway_errors(browser, provider):
    """The browser's errors but those of the provider's own pages (its favicon; its style sheet, from a
    CDN this machine cannot reach): the console's pages load nothing from outside (their CSP)."""
    return [
        e
        for e in console_errors(browser)
        if "cdn.jsdelivr.net" not in e["message"] and not e["message"].startswith(provider.url + "/")
    ]


# The browser and its screenshots, as the console's other tests have them (pytest fixtures).
browser = test_console.browser
shots = test_console.shots

CLIENT_ID = "recovery-console"
# The provider's roles and what they grant (console.oidc_roles).
ROLES = {
    "support-l1": ["recovery:read", "recovery:send", "identity:read"],
    "support-viewer": ["recovery:read"],
    "auditors": ["audit:read"],
}
AGENTS = {
    "agent-l1": {"name": "Lena Level-One", "groups": ["support-l1", "staff"]},
    "agent-viewer": {"name": "Vic Viewer", "groups": ["support-viewer"]},
    "agent-marketing": {"name": "Mo Marketing", "groups": ["marketing"]},
}
DOCS_SCREENSHOTS = os.environ.get("CONSOLE_DOCS_SCREENSHOTS")  # set to docs/console to refresh the docs' pictures


def wait_serving(process, url, what):
    """Waits until `process` answers 200 at `url`; fails at once if it exits."""

    def up():
        if process.poll() is not None:
            raise AssertionError(f"{what} exited {process.returncode}")
        try:
            return http("GET", url, timeout=2).status == 200
        except OSError:
            return False

    wait_for(up, 30, interval=0.1, what=what)


class Provider:
    """oidc-provider-mock on a free loopback port, with the agents' claims set through its API."""

    def __init__(self, workdir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, "oidc-provider.log"), "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(self.port), "--require-nonce"],
            cwd=workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_serving(self.process, self.url + "/.well-known/openid-configuration", "the OpenID provider")
        for sub, claims in AGENTS.items():
            answer = http(
                "PUT", f"{self.url}/users/{sub}", json.dumps(claims).encode(), {"Content-Type": "application/json"}
            )
            assert answer.status == 204, answer

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


@pytest.fixture
def provider(tmp_path):
    p = Provider(str(tmp_path))
    try:
        yield p
    finally:
        p.stop()


def oidc_settings(workdir, provider, public_url, **more):
    secret = os.path.join(workdir, "oidc-client-secret")
    with open(secret, "w") as f:
        f.write("the-console-client-secret\n")
    return {
        "console.secure_cookie": False,
        "console.oidc_issuer": provider.url,
        "console.oidc_client_id": CLIENT_ID,
        "console.oidc_client_secret_file": secret,
        "console.oidc_redirect_url": public_url + "/console/oidc/callback",
        "console.oidc_scopes": ["openid", "profile"],
        "console.oidc_roles": ROLES,
        **more,
    }


def start_console(stack, provider, **more):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return stack.start_gateway(overrides={"server.port": port, **oidc_settings(stack.workdir, provider, url, **more)})


def sign_in_with_provider(browser, base_url, sub):
    """The browser's whole sign-in: the console's button, the provider's form, back to the console."""
    browser.get(base_url + "/console")
    loaded(browser, "/console/sign-in")
    browser.find_element(By.ID, "oidc-sign-in").click()
    field = until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "input[name=sub]"), "the provider's form")[0]
    field.send_keys(sub)
    browser.find_element(By.XPATH, "//button[normalize-space()='Authorize']").click()


def signed_in(browser):
    return until(browser, lambda b: b.find_elements(By.ID, "agent-name"), "signed in")[0].text


def session_cookie(browser):
    return "rg_console=" + browser.get_cookie("rg_console")["value"]


def sign_out_everywhere(browser, base_url):
    """The console's sign-out, then the provider's end-session confirmation, back to sign-in."""
    browser.find_element(By.ID, "sign-out").click()
    # The console's own page has form buttons too (sign-out is one): wait for the provider's page
    # first, or the button found may be the console's, gone once the browser moves on.
    loaded(browser, "/oauth2/end_session")
    confirm = until(browser, lambda b: b.find_elements(By.XPATH, "//form//button"), "the provider's sign-out")
    assert f"client_id={CLIENT_ID}" in browser.current_url and "id_token_hint=" in browser.current_url
    confirm[0].click()
    until(browser, lambda b: b.current_url.startswith(base_url + "/console/sign-in"), "back at sign-in")


def find_by_email(browser, email):
    field = browser.find_element(By.ID, "query")
    field.send_keys(email)
    field.submit()


def send_with_reason(browser, reason):
    until(browser, lambda b: b.find_elements(By.ID, "send-form"), "send form")
    browser.find_element(By.ID, "reason").send_keys(reason)
    browser.find_element(By.ID, "send-button").click()
    until(
        browser,
        lambda b: b.find_elements(By.ID, "status") and b.find_element(By.ID, "status").text == "sent",
        "status sent",
    )
    until(browser, lambda b: "email.sent" in b.find_element(By.ID, "events").text, "the sent event on the page")


def test_agent_signs_in_with_the_provider_sends_under_their_name_and_signs_out(stack, provider, browser, shots):
    console = start_console(stack, provider)
    browser.get(console.url + "/console/sign-in")
    loaded(browser, "/console/sign-in")
    shots(browser, "1-sign-in")
    if DOCS_SCREENSHOTS:
        browser.save_screenshot(str(REPO / DOCS_SCREENSHOTS / "sign-in.png"))
    sign_in_with_provider(browser, console.url, "agent-l1")
    assert signed_in(browser) == "Lena Level-One"
    assert urllib.parse.urlparse(browser.current_url).path == "/console/users"
    find_by_email(browser, ALICE_EMAIL)
    until(browser, lambda b: b.find_elements(By.ID, "identity-id"), "identity page")
    assert ALICE_EMAIL in browser.find_element(By.ID, "addresses").text  # identity:read: in full
    browser.find_element(By.ID, "send-link").click()
    send_with_reason(browser, "TICKET-2001 locked out")
    actor = f"Lena Level-One <{provider.url}#agent-l1>"
    assert browser.find_element(By.ID, "actor").text == actor
    assert browser.find_element(By.ID, "reason").text == "TICKET-2001 locked out"
    actions = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#events td.action")]
    assert actions == ["email.requested", "email.sent"]
    shots(browser, "2-delivery")
    if DOCS_SCREENSHOTS:
        browser.save_screenshot(str(REPO / DOCS_SCREENSHOTS / "delivery.png"))
    [message] = stack.smtp.messages()
    assert message["To"].addresses[0].addr_spec == ALICE_EMAIL

    # The audit log names the person, issuer-qualified, with the reason; the lookup is audited too.
    events = console.audit_ndjson()
    [requested] = [e for e in events if e["action"] == "email.requested"]
    assert requested["actor"] == actor and requested["details"]["reason"] == "TICKET-2001 locked out"
    [lookup] = [e for e in events if e["action"] == "identity.looked_up"]
    assert lookup["actor"] == actor and lookup["outcome"] == "found" and lookup["recipient_masked"] == "f***@o***.sh"
    assert ALICE_EMAIL not in json.dumps(events)

    cookie = session_cookie(browser)
    sign_out_everywhere(browser, console.url)
    answer = fetch("GET", console.url + "/console/users", headers={"Cookie": cookie})
    assert answer.status == 303 and answer.headers["Location"] == "/console/sign-in"
    assert gateway_errors(browser, provider) == []


def test_a_role_that_maps_to_no_scope_gets_no_session(stack, provider, browser, shots):
    console = start_console(stack, provider)
    sign_in_with_provider(browser, console.url, "agent-marketing")
    error = until(browser, lambda b: b.find_elements(By.ID, "sign-in-error"), "the refusal")[0]
    assert "none of your roles opens the console" in error.text
    shots(browser, "refused")
    assert browser.get_cookie("rg_console") is None
    browser.get(console.url + "/console/users")
    loaded(browser, "/console/sign-in")


def test_a_recovery_read_agent_sees_masked_addresses_only(stack, provider, browser, shots):
    console = start_console(stack, provider)
    sign_in_with_provider(browser, console.url, "agent-viewer")
    assert signed_in(browser) == "Vic Viewer"
    find_by_email(browser, ALICE_EMAIL)
    error = until(browser, lambda b: b.find_elements(By.ID, "query-error"), "the refusal")[0]
    assert "identity:read" in error.text
    browser.get(f"{console.url}/console/identities/{ALICE}")
    until(browser, lambda b: b.find_elements(By.ID, "identity-id"), "identity page")
    assert browser.find_element(By.ID, "addresses").text.startswith("f***@o***.sh")
    assert browser.find_elements(By.ID, "traits") == [] and browser.find_elements(By.ID, "send-link") == []
    assert ALICE_EMAIL not in browser.page_source
    shots(browser, "masked")
    assert [e for e in console.audit_ndjson() if e["action"] == "identity.looked_up"] == []


def test_an_answer_for_another_sign_in_is_refused(stack, provider, browser):
    """The provider's answer (code and state) of one sign-in, brought to a browser whose sign-in is
    another (login CSRF): the state check refuses it, and no session is made."""
    console = start_console(stack, provider)
    browser.get(console.url + "/console/oidc/start")
    until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "input[name=sub]"), "the provider's form")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(browser.current_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [CLIENT_ID]
    assert len(query["code_challenge"][0]) == 43 and query["nonce"] and query["state"]
    browser.get(start_and_authorize(console, "agent-l1"))  # the attacker's own sign-in's answer
    error = until(browser, lambda b: b.find_elements(By.ID, "sign-in-error"), "the refusal")[0]
    assert "not for your sign-in" in error.text
    assert browser.get_cookie("rg_console") is None


def start_and_authorize(console, sub):
    """A sign-in started outside the browser (its cookie left behind) and authorized at the
    provider: the callback URL (code and state) it would bring back."""
    start = fetch("GET", console.url + "/console/oidc/start")
    assert start.status == 303, start
    authorize = start.headers["Location"]
    answer = fetch("POST", authorize, f"sub={sub}".encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status in (302, 303), answer
    callback = answer.headers["Location"]
    assert callback.startswith(console.url + "/console/oidc/callback?")
    return callback


def test_api_key_sign_in_can_be_turned_off(stack, provider, browser):
    console = start_console(stack, provider, **{"console.api_key_sign_in": False})
    browser.get(console.url + "/console/sign-in")
    loaded(browser, "/console/sign-in")
    assert browser.find_elements(By.ID, "api_key") == [] and browser.find_elements(By.ID, "oidc-sign-in")
    answer = fetch(
        "POST",
        console.url + "/console/sign-in",
        b"api_key=x&csrf=y",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 404


# Two replicas on one PostgreSQL behind nginx.

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class RoundRobin:
    """nginx (Debian's package) with a configuration of its own: every request to the next replica."""

    def __init__(self, workdir, replicas, port):
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        prefix = pathlib.Path(workdir) / "nginx"
        (prefix / "logs").mkdir(parents=True, exist_ok=True)
        servers = "\n".join(f"        server 127.0.0.1:{r.port};" for r in replicas)
        self.access_log = prefix / "logs" / "access.log"
        (prefix / "nginx.conf").write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {self.access_log};
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    log_format upstream '$upstream_addr $request';
    upstream replicas {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{self.port};
        access_log {self.access_log} upstream;
        location / {{
            proxy_pass http://replicas;
            proxy_set_header Host $http_host;
            proxy_next_upstream off;
        }}
    }}
}}
""")
        self.process = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_serving(self.process, self.url + "/health/alive", "nginx")

    def upstreams(self):
        """Which replica (address) served each request, in order."""
        return [line.split(" ", 1)[0] for line in self.access_log.read_text().splitlines() if line.strip()]

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def test_two_replicas_behind_round_robin_serve_one_session_and_sign_out_ends_it_on_both(
    stack, postgres, provider, browser, shots
):
    database = postgres.create_database()
    # The console's public URL (the provider's redirect target) is the proxy's.
    public_port = free_port()
    public = f"http://127.0.0.1:{public_port}"
    replicas = []
    for n in range(2):
        settings = {"server.port": free_port(), "store.url": database, **oidc_settings(stack.workdir, provider, public)}
        # One after the other: the first creates the audit key file the other then reads.
        replicas.append(stack.start_gateway(overrides=settings, name=f"replica{n + 1}"))
    proxy = RoundRobin(stack.workdir, replicas, public_port)
    try:
        sign_in_with_provider(browser, public, "agent-l1")
        assert signed_in(browser) == "Lena Level-One"
        find_by_email(browser, ALICE_EMAIL)
        until(browser, lambda b: b.find_elements(By.ID, "identity-id"), "identity page")
        browser.find_element(By.ID, "send-link").click()
        send_with_reason(browser, "TICKET-2002 two replicas")
        shots(browser, "replicas-delivery")
        # Both replicas served the session's pages and forms (round robin), and none sent the
        # agent back to sign in or refused a form: the flow above reached the sent delivery.
        served = proxy.upstreams()
        assert {f"127.0.0.1:{r.port}" for r in replicas} <= set(served), served
        assert len(stack.smtp.messages()) == 1

        cookie = session_cookie(browser)
        for replica in replicas:
            assert fetch("GET", replica.url + "/console/users", headers={"Cookie": cookie}).status == 200
        sign_out_everywhere(browser, public)
        for replica in replicas:
            answer = fetch("GET", replica.url + "/console/users", headers={"Cookie": cookie})
            assert answer.status == 303 and answer.headers["Location"] == "/console/sign-in", replica.name
        assert gateway_errors(browser, provider) == []
    finally:
        proxy.stop()
