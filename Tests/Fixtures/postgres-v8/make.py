"""Makes this directory's PostgreSQL store as the gateway of another version leaves it, for the
upgrade test (Tests/e2e/test_audit_sequencer.py): three recovery emails sent and sealed, a
checkpoint over them, then `pg_dump` of the database, the key files it used and the 202 bodies it
answered (a replay after the upgrade must answer them byte for byte).

    RECOVERY_GATEWAY_BIN_DIR=<that version's bin dir> python3 Tests/Fixtures/postgres-v8/make.py

The committed files were made by the gateway at 03ac639 (store schema up to v8_batch_control,
events sealed in each request's transaction, before the audit sequencer of v10).
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "e2e"))

from conftest import Stack  # noqa: E402
import harness  # noqa: E402
from harness import ALICE, Postgres, wait_for  # noqa: E402

# The scopes that version knows (identity:read came after it).
OLD_SCOPES = {
    "recovery:send",
    "recovery:send:any-recipient",
    "recovery:read",
    "audit:read",
    "courier:kratos",
    "batch:admin",
}
harness.KEYS = {name: (key, [s for s in scopes if s in OLD_SCOPES]) for name, (key, scopes) in harness.KEYS.items()}

HERE = pathlib.Path(__file__).resolve().parent


def main():
    postgres = Postgres()
    work = tempfile.mkdtemp()
    stack = Stack(work)
    try:
        stack.start_stand_in()
        stack.start_smtp()
        url = postgres.create_database()
        gateway = stack.start_gateway(overrides={"store.url": url, "audit.checkpoint_interval": "300ms"})
        answers = {}
        for n in range(3):
            answer = gateway.send({"identity_id": ALICE, "reason": f"before {n}"}, f"before-{n}")
            assert answer.status == 202, answer
            answers[f"before-{n}"] = answer.body.decode()
        (HERE / "answers.json").write_text(json.dumps(answers, indent=2) + "\n")
        gateway.wait_all_sent()
        wait_for(
            lambda: any(e["action"] == "audit.checkpoint" for e in gateway.audit_ndjson()), 30, what="a checkpoint"
        )
        stack.stop()
        dump = subprocess.run(
            ["pg_dump", "--no-owner", "--no-privileges", postgres.database_url(postgres.last_database)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (HERE / "store.sql").write_text(dump)
        for name in ("audit.key", "audit-signing.key"):
            shutil.copyfile(os.path.join(work, name), HERE / name)
        print("keys/ held:", sorted(os.listdir(os.path.join(work, "keys"))))
    finally:
        stack.stop()
        postgres.remove()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
