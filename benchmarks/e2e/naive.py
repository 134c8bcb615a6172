"""The script every team writes instead of the gateway, as the benchmark's baseline.

  naive.py --standin URL --smtp HOST:PORT --identities FILE --count N --templates DIR

One by one: look the identity up (GET /admin/identities/{id}), create a link
(POST /admin/recovery/link), fill the same templates the gateway ships (text and HTML), build the
email with the standard library and send it with smtplib. It is given the benefit of the doubt:
it keeps one SMTP connection open for the whole run (a truly naive script connects per email).
Prints one JSON object: {"sent": N, "seconds": S, "emails_per_second": R}.
"""

import argparse
import json
import time
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
import smtplib


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def fill(template, values):
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", value)
    return template


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--standin", required=True)
    parser.add_argument("--smtp", required=True)
    parser.add_argument("--identities", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--templates", required=True)
    args = parser.parse_args()

    directory = Path(args.templates) / "recovery" / "en"
    subject = (directory / "subject.mustache").read_text().strip()
    text = (directory / "body.txt.mustache").read_text()
    html = (directory / "body.html.mustache").read_text()
    identities = [line.strip() for line in open(args.identities) if line.strip()]
    host, port = args.smtp.rsplit(":", 1)

    started = time.perf_counter()
    smtp = smtplib.SMTP(host, int(port), timeout=10)
    for index in range(args.count):
        identity_id = identities[index % len(identities)]
        identity = call("GET", f"{args.standin}/admin/identities/{identity_id}")
        to = identity["recovery_addresses"][0]["value"]
        link = call("POST", f"{args.standin}/admin/recovery/link", {"identity_id": identity_id, "expires_in": "1h"})
        values = {"To": to, "RecoveryURL": link["recovery_link"], "ExpiresInMinutes": "60", "Locale": "en"}
        message = EmailMessage()
        message["From"] = "Example <no-reply@example.com>"
        message["To"] = to
        message["Subject"] = fill(subject, values)
        message["Date"] = formatdate()
        message["Message-ID"] = make_msgid(domain="example.com")
        message.set_content(fill(text, values))
        message.add_alternative(fill(html, values), subtype="html")
        smtp.send_message(message)
    smtp.quit()
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"sent": args.count, "seconds": round(seconds, 3), "emails_per_second": round(args.count / seconds, 1)}
        )
    )


if __name__ == "__main__":
    main()
