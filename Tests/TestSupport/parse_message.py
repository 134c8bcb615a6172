#!/usr/bin/env python3
"""Parses a message file with Python's email package under policy=email.policy.strict (any defect
raises) and prints what a mail client would see as JSON: the decoded headers, the text part,
the HTML part and the MIME structure. An independent check of what Mail builds."""

import email
import email.policy
import json
import sys


def main(path):
    with open(path, "rb") as f:
        raw = f.read()
    message = email.message_from_bytes(raw, policy=email.policy.strict)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    result = {
        "headers": [[name, str(value)] for name, value in message.items()],
        "content_type": message.get_content_type(),
        "parts": [part.get_content_type() for part in message.walk()],
        "text": text.get_content() if text is not None else None,
        "html": html.get_content() if html is not None else None,
        "defects": [str(d) for part in message.walk() for d in part.defects],
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
