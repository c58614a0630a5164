#!/usr/bin/env python3
"""Reads one received email with Python's `email` package and writes out its attachments, for Herald's tests.

    extract_attachment.py MESSAGE.eml OUTDIR

Parses MESSAGE.eml with email.message_from_bytes(..., policy=policy.default) and writes the decoded bytes of
each part whose Content-Disposition is `attachment` to OUTDIR/<n>.bin (n from 0, in message order; the file
name the message gives is reported, never used as a path). Prints one JSON object:

  {"structure": "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf)",
   "defects": ["..."],                   every defect the parser recorded, on any part
   "text": "...", "html": "...",         the bodies as a mail client shows them (null when absent)
   "attachments": [{"filename", "content_type", "charset", "size", "file", "sha256", "transfer_encoding"}]}

so a test compares the bytes with what it sent, byte for byte, as a mail client would see them.
"""

import email
import hashlib
import json
import os
import sys
from email import policy


def structure(part):
    if part.is_multipart():
        return f"{part.get_content_type()}({','.join(structure(child) for child in part.iter_parts())})"
    return part.get_content_type()


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: extract_attachment.py MESSAGE.eml OUTDIR\n")
        return 2
    with open(argv[1], "rb") as handle:
        message = email.message_from_bytes(handle.read(), policy=policy.default)
    os.makedirs(argv[2], exist_ok=True)
    defects = []
    attachments = []
    for part in message.walk():
        defects += [f"{part.get_content_type()}: {defect!r}" for defect in part.defects]
        if part.get_content_disposition() != "attachment":
            continue
        content = part.get_payload(decode=True) or b""
        path = os.path.join(argv[2], f"{len(attachments)}.bin")
        with open(path, "wb") as handle:
            handle.write(content)
        attachments.append({
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "size": len(content),
            "file": path,
            "sha256": hashlib.sha256(content).hexdigest(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
        })
    bodies = {}
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,))
        bodies["text" if kind == "plain" else "html"] = body.get_content() if body is not None else None
    json.dump({"structure": structure(message), "defects": defects, **bodies, "attachments": attachments}, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
