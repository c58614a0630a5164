#!/usr/bin/env python3
"""Checks the log of scripts/email_api_test_server.py: every recipient got exactly one message, and (with --dkim)
every raw MIME message (SES, Mailgun) carries a DKIM signature that dkimpy verifies with the given public key, the
way scripts/dkim_verify.py verifies one (`pip install dkimpy pynacl`).

  python3 scripts/check_email_api_log.py --log sent.jsonl --expect 2000 [--provider ses]
      [--recipient-pattern 'user{}@example.com' [--first 0] | --recipients FILE]
      [--dkim --dkim-public-key key.pem --dkim-selector s1 --dkim-domain example.com]

--expect N: exactly N distinct recipients, each in exactly one accepted message. Which recipients: with
--recipient-pattern, the pattern with {} replaced by first .. first+N-1; with --recipients, the addresses in FILE
(one a line); otherwise whichever the log has, so only the count can be missing. Addresses compare case-insensitively.
Without --expect only duplicates (and DKIM) are checked.

--dkim-public-key FILE holds the key as a PEM public key (RSA or Ed25519), as the DNS TXT record
("v=DKIM1; k=rsa; p=..."), or as the bare base64 of the p= tag. For each raw message the DKIM-Signature with
d=<--dkim-domain> and s=<--dkim-selector> is verified; a message without one fails. Structured entries (SendGrid,
Postmark: the provider builds and signs the MIME message) are counted as skipped.

Prints one JSON summary:
  {"ok": bool, "entries": n, "by_provider": {...}, "recipients": n, "expected": N, "duplicates": {address: [seq, ...]},
   "duplicate_count": n, "missing": [...], "missing_count": n, "unexpected": [...], "unexpected_count": n,
   "dkim": {"checked": n, "verified": n, "skipped": n, "failures": [{"seq": s, "recipients": [...], "error": "..."}]},
   "problems": ["..."]}
(lists hold at most --show items; the counts are complete). Exit status: 0 when everything checked out, 1 when not,
2 for bad arguments or an unreadable log.
"""

import argparse
import base64
import json
import logging
import os
import re
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def dkim_record(text):
    """The TXT record text for a public key given as a record, a PEM key, or the base64 of p=."""
    text = text.strip()
    if "p=" in text:
        return text
    if "-----BEGIN" in text:
        body = re.sub(r"-----[^-]+-----", "", text)
        der = base64.b64decode("".join(body.split()))
        ed25519_prefix = bytes.fromhex("302a300506032b6570032100")
        if der.startswith(ed25519_prefix) and len(der) == 44:
            return "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[-32:]).decode()
        return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    return "v=DKIM1; k=rsa; p=" + "".join(text.split())


def signature_tags(value):
    tags = {}
    for part in value.split(b";"):
        name, eq, tag = part.partition(b"=")
        if eq:
            tags[name.strip().decode("ascii", "replace")] = b"".join(tag.split()).decode("ascii", "replace")
    return tags


def verify_dkim(message, record, selector, domain):
    """(ok, error) for the DKIM-Signature of message by d=domain, s=selector."""
    import dkim
    from dkim_verify import Errors

    name = f"{selector}._domainkey.{domain}".lower()

    def dnsfunc(query, timeout=5):
        key = (query.decode("ascii") if isinstance(query, bytes) else query).lower().rstrip(".")
        return record.encode("ascii") if key == name else None

    errors = Errors()
    logger = logging.getLogger(f"check_email_api_log.{id(errors)}")
    logger.propagate = False
    logger.addHandler(errors)
    try:
        verifier = dkim.DKIM(message, logger=logger, minkey=1024)
        signatures = [value for header, value in verifier.headers if header.lower() == b"dkim-signature"]
        if not signatures:
            return False, "no DKIM-Signature header"
        for index, value in enumerate(signatures):
            tags = signature_tags(value)
            if tags.get("d", "").lower() == domain.lower() and tags.get("s", "").lower() == selector.lower():
                if verifier.verify(idx=index, dnsfunc=dnsfunc):
                    return True, ""
                return False, "; ".join(errors.messages) or "the b= signature does not verify"
        found = ", ".join(f"d={signature_tags(v).get('d')} s={signature_tags(v).get('s')}" for v in signatures)
        return False, f"no DKIM-Signature with d={domain} s={selector} (found {found})"
    except dkim.DKIMException as exception:
        return False, f"{type(exception).__name__}: {exception}"
    finally:
        logger.removeHandler(errors)


def main():
    parser = argparse.ArgumentParser(description="Check scripts/email_api_test_server.py's log.")
    parser.add_argument("--log", required=True)
    parser.add_argument("--provider", choices=["ses", "sendgrid", "postmark", "mailgun"])
    parser.add_argument("--expect", type=int, help="distinct recipients that must each have exactly one message")
    parser.add_argument("--recipient-pattern", help="the expected addresses, {} standing for first .. first+N-1")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--recipients", help="a file of the expected addresses, one a line")
    parser.add_argument("--dkim", action="store_true")
    parser.add_argument("--dkim-public-key")
    parser.add_argument("--dkim-selector")
    parser.add_argument("--dkim-domain")
    parser.add_argument("--show", type=int, default=20, help="examples per list in the summary")
    args = parser.parse_args()
    if args.dkim and not (args.dkim_public_key and args.dkim_selector and args.dkim_domain):
        parser.error("--dkim needs --dkim-public-key, --dkim-selector and --dkim-domain")
    if args.recipient_pattern and "{}" not in args.recipient_pattern:
        parser.error("--recipient-pattern must contain {}")
    if args.recipient_pattern and args.expect is None:
        parser.error("--recipient-pattern needs --expect")

    try:
        entries = []
        with open(args.log, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    entries.append(json.loads(line))
        expected = None
        if args.recipient_pattern:
            expected = [args.recipient_pattern.replace("{}", str(args.first + i)) for i in range(args.expect)]
        elif args.recipients:
            with open(args.recipients, encoding="utf-8") as handle:
                expected = [line.strip() for line in handle if line.strip()]
        record = None
        if args.dkim:
            with open(args.dkim_public_key, encoding="utf-8") as handle:
                record = dkim_record(handle.read())
    except (OSError, ValueError) as exception:
        print(f"check_email_api_log.py: {exception}", file=sys.stderr)
        return 2

    if args.provider:
        entries = [e for e in entries if e.get("provider") == args.provider]
    problems = []
    by_provider = Counter(e.get("provider") for e in entries)
    seqs = defaultdict(list)
    for entry in entries:
        for address in entry.get("recipients") or []:
            seqs[address.lower()].append(entry.get("seq"))
    duplicates = {address: found for address, found in seqs.items() if len(found) > 1}
    show = lambda items: items[:args.show]
    summary = {"entries": len(entries), "by_provider": dict(by_provider), "recipients": len(seqs),
               "expected": args.expect if expected is None else len(expected),
               "duplicates": dict(list(sorted(duplicates.items()))[:args.show]), "duplicate_count": len(duplicates)}
    if duplicates:
        problems.append(f"{len(duplicates)} recipient(s) got more than one message")
    if expected is not None:
        wanted = {a.lower() for a in expected}
        missing = [a for a in expected if a.lower() not in seqs]
        unexpected = sorted(a for a in seqs if a not in wanted)
        summary.update(missing=show(missing), missing_count=len(missing), unexpected=show(unexpected),
                       unexpected_count=len(unexpected))
        if missing:
            problems.append(f"{len(missing)} expected recipient(s) got no message")
        if unexpected:
            problems.append(f"{len(unexpected)} recipient(s) that were not expected got messages")
    elif args.expect is not None:
        missing_count = max(0, args.expect - len(seqs))
        summary.update(missing=[], missing_count=missing_count, unexpected=[], unexpected_count=max(0, len(seqs) - args.expect))
        if len(seqs) != args.expect:
            problems.append(f"{len(seqs)} distinct recipients, expected {args.expect}")
    if args.dkim:
        checked = verified = skipped = 0
        failures = []
        for entry in entries:
            if "raw_mime_base64" in entry:
                message = base64.b64decode(entry["raw_mime_base64"])
            elif "raw_mime" in entry:
                message = entry["raw_mime"].encode("utf-8")
            else:
                skipped += 1
                continue
            checked += 1
            ok, error = verify_dkim(message, record, args.dkim_selector, args.dkim_domain)
            if ok:
                verified += 1
            else:
                failures.append({"seq": entry.get("seq"), "recipients": entry.get("recipients"), "error": error})
        summary["dkim"] = {"checked": checked, "verified": verified, "skipped": skipped, "failures": show(failures),
                           "failure_count": len(failures)}
        if failures:
            problems.append(f"{len(failures)} message(s) failed DKIM verification")
        if checked == 0:
            problems.append("--dkim: no raw MIME message to verify")
    summary["problems"] = problems
    summary["ok"] = not problems
    print(json.dumps({"ok": summary.pop("ok"), **summary}, ensure_ascii=False))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
