#!/usr/bin/env python3
"""Verifies the DKIM signatures of .eml files with dkimpy, an implementation independent of Herald's, so Herald's
tests check its signatures the way a receiving mail server would (`pip install dkimpy pynacl`; PyNaCl is what
dkimpy verifies ed25519-sha256 with).

  python3 scripts/dkim_verify.py --dns records.json FILE.eml...

records.json maps DNS names to TXT values, standing in for DNS:

  {"s1._domainkey.example.com": "v=DKIM1; k=rsa; p=MIIB..."}

A name that is not in it does not exist. For each file (its first DKIM-Signature) one JSON line is printed:

  {"file": "a.eml", "ok": true, "error": ""}

`error` is dkimpy's reason when `ok` is false. Exit status: 0 when every file verified, 1 when one did not, 2 for bad
arguments or an unreadable records file.
"""

import argparse
import json
import logging
import sys

import dkim


class Errors(logging.Handler):
    """Keeps the errors dkimpy logs: for a key it cannot get (no record, a bad p=) verify() returns False and says
    why only in its log."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def main():
    parser = argparse.ArgumentParser(description="Verify DKIM signatures of .eml files with dkimpy.")
    parser.add_argument("--dns", required=True, help="JSON file mapping DNS names to TXT record values")
    parser.add_argument("files", nargs="+", help=".eml files (CRLF line ends, as sent)")
    args = parser.parse_args()

    try:
        with open(args.dns, encoding="utf-8") as handle:
            records = {name.lower().rstrip("."): value for name, value in json.load(handle).items()}
    except (OSError, ValueError, AttributeError) as exception:
        print(f"dkim_verify.py: cannot read {args.dns}: {exception}", file=sys.stderr)
        return 2

    def dnsfunc(name, timeout=5):
        # dkimpy asks for b"<selector>._domainkey.<domain>." and wants the TXT text back, or None.
        key = (name.decode("ascii") if isinstance(name, bytes) else name).lower().rstrip(".")
        value = records.get(key)
        return value.encode("ascii") if value is not None else None

    all_ok = True
    for path in args.files:
        with open(path, "rb") as handle:
            message = handle.read()
        error = ""
        errors = Errors()
        logger = logging.getLogger(f"dkim_verify.{id(errors)}")
        logger.propagate = False
        logger.addHandler(errors)
        try:
            verifier = dkim.DKIM(message, logger=logger, minkey=1024)
            ok = bool(verifier.verify(dnsfunc=dnsfunc))
            if not ok:
                signed = any(name.lower() == b"dkim-signature" for name, _ in verifier.headers)
                if not signed:
                    error = "no DKIM-Signature header"
                else:
                    error = "; ".join(errors.messages) or "the b= signature does not verify"
        except dkim.DKIMException as exception:
            ok = False
            error = f"{type(exception).__name__}: {exception}"
        all_ok = all_ok and ok
        print(json.dumps({"file": path, "ok": ok, "error": error}), flush=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
