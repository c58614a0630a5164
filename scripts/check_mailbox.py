#!/usr/bin/env python3
"""Parses every message in a folder and prints one JSON report on stdout.

  scripts/check_mailbox.py FOLDER [--count-header X-Herald-Message] [--pattern GLOB]

The folder holds either the spool of scripts/smtp_test_server.py (<seq>.eml files, raw DATA bytes) or the
dump folder of Postfix's `smtp-sink -d` (one file per message, named <template><random hex>). smtp-sink
puts its own header block before each message (X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args,
X-Rcpt-Args, then a three-line Received header) and an empty line after it; that block is removed before
parsing, and its X-Mail-Args/X-Rcpt-Args are used as the envelope.

Which files are messages: with --pattern, the files matching it; otherwise every *.eml file if there are
any, else every regular file that is not hidden and not one of the spool's own .jsonl/.json/.txt/.log/.tmp
files. Sub-folders are searched too (smtp-sink templates may contain "/").

Report keys:
  count                   messages read
  unique_message_ids      distinct Message-ID values
  duplicate_message_ids   Message-IDs seen more than once (first 20)
  missing_headers         {From, To, Subject, Date, Message-ID, MIME-Version: messages without it}
  multipart_alternative   messages that are (or contain) a multipart/alternative with a non-empty
                          text/plain and a non-empty text/html part
  parse_errors            messages with parser defects (any part or header) or that raised while parsed
  parse_error_samples     the first 10 as {file, errors}
  subjects                {subject: count}, the 50 most common
  to                      {address: count} from the To headers, the 50 most common
  rcpt_to                 {address: count} from the envelope (envelopes.jsonl or X-Rcpt-Args), 50 most common
  by_x_header             {value: count} of --count-header, every value (empty without the option)
  x_header_missing        messages without --count-header
  list_unsubscribe        messages with a List-Unsubscribe header
  list_unsubscribe_post   messages with List-Unsubscribe-Post: List-Unsubscribe=One-Click
  bare_lf                 messages with a line feed not preceded by a carriage return (smtp-sink dumps are
                          LF-only by design and are not counted)
  smtp_sink_format        messages that carried smtp-sink's header block
"""

import argparse
import collections
import email
import email.policy
import fnmatch
import json
import os
import signal
import sys

# A parent that spawned us from a thread with signals blocked (Swift's Foundation.Process called from a
# libdispatch worker does) passes that mask on; unblock them, or SIGTERM never arrives (and multiprocessing
# cannot stop its workers).
signal.pthread_sigmask(signal.SIG_SETMASK, [])

CHECKED_HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version"]
NOT_MESSAGES = (".jsonl", ".json", ".txt", ".log", ".tmp")
SINK_HEADERS = (b"x-client-addr:", b"x-client-proto:", b"x-helo-args:", b"x-mail-args:", b"x-rcpt-args:")


def message_files(folder, pattern):
    found = []
    for root, directories, names in os.walk(folder):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        for name in names:
            found.append(os.path.join(root, name))
    found.sort()
    if pattern:
        return [path for path in found if fnmatch.fnmatch(os.path.basename(path), pattern)]
    eml = [path for path in found if path.endswith(".eml")]
    if eml:
        return eml
    return [path for path in found if not os.path.basename(path).startswith(".") and not path.endswith(NOT_MESSAGES)]


def strip_sink_block(raw):
    """Returns (message bytes, envelope) for an smtp-sink dump, or (raw, None) for anything else."""
    if not raw[:16].lower().startswith(b"x-client-addr:"):
        return raw, None
    lines = raw.split(b"\n")
    envelope = {"mail_from": None, "rcpt_tos": []}
    index = 0
    while index < len(lines):
        line = lines[index]
        lower = line.lower()
        if lower.startswith(b"x-mail-args:"):
            envelope["mail_from"] = _address(line)
        elif lower.startswith(b"x-rcpt-args:"):
            envelope["rcpt_tos"].append(_address(line))
        elif lower.startswith(b"received:"):
            # The Received header smtp-sink adds marks the end of its block: skip its continuation lines.
            index += 1
            while index < len(lines) and lines[index][:1] in (b" ", b"\t"):
                index += 1
            break
        elif not lower.startswith(SINK_HEADERS):
            break
        index += 1
    message = b"\n".join(lines[index:])
    # smtp-sink writes an empty line after the message.
    if message.endswith(b"\n\n"):
        message = message[:-1]
    return message, envelope


def _address(line):
    value = line.split(b":", 1)[1].strip().decode("utf-8", "replace")
    if value.startswith("<"):
        value = value[1 : value.find(">")] if ">" in value else value[1:]
    else:
        value = value.split()[0] if value else value
    return value


def spool_envelopes(folder):
    envelopes = {}
    path = os.path.join(folder, "envelopes.jsonl")
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.endswith("\n"):
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    envelopes[record.get("file")] = record
    except OSError:
        pass
    return envelopes


def inspect_parts(message):
    """One walk over the parts: (parser and decoding errors, whether it has a usable multipart/alternative).

    Each part's Content-Type is parsed once; under policy.default every header access parses it again."""
    errors = []
    for name, value in message.items():
        errors.extend(f"{name}: {type(d).__name__}" for d in getattr(value, "defects", ()))
    alternative = False

    def visit(part, content_type):
        nonlocal alternative
        if part.is_multipart():
            children = [(child, child.get_content_type()) for child in part.get_payload()]
            non_empty = set()
            for child, child_type in children:
                if visit(child, child_type) and child_type in ("text/plain", "text/html"):
                    non_empty.add(child_type)
            if content_type == "multipart/alternative" and len(non_empty) == 2:
                alternative = True
            return False
        if content_type.startswith("multipart/") or content_type == "message/rfc822":
            return False  # a multipart without its parts: the parser has recorded a defect
        try:
            content = part.get_content()
        except Exception as error:  # noqa: BLE001 - content the parser cannot decode is a parse error
            errors.append(f"{content_type}: {type(error).__name__}: {error}")
            return False
        return bool(content.strip()) if isinstance(content, (str, bytes)) else False

    visit(message, message.get_content_type())
    # After decoding: decoding adds defects (bad base64 padding or characters, for instance).
    for part in message.walk():
        errors.extend(type(d).__name__ for d in part.defects)
    return errors, alternative


def summarise(path):
    """Everything the report needs from one file, as plain data (so it can come back from a worker)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    raw, envelope = strip_sink_block(raw)
    summary = {
        "path": path,
        "sink": envelope is not None,
        "sink_envelope": envelope,
        "bare_lf": envelope is None and raw.count(b"\n") != raw.count(b"\r\n"),
        "missing": [],
        "message_id": None,
        "subject": None,
        "to": [],
        "x_values": [],
        "list_unsubscribe": False,
        "list_unsubscribe_post": False,
        "alternative": False,
        "errors": [],
    }
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        headers = {name.lower(): value for name, value in message.items()}
        summary["missing"] = [name for name in CHECKED_HEADERS if name.lower() not in headers]
        if "message-id" in headers:
            summary["message_id"] = str(headers["message-id"]).strip()
        if "subject" in headers:
            summary["subject"] = str(headers["subject"])
        if "to" in headers:
            summary["to"] = [address.addr_spec for address in getattr(headers["to"], "addresses", ())]
        if COUNT_HEADER:
            summary["x_values"] = [str(value).strip() for value in message.get_all(COUNT_HEADER) or []]
        summary["list_unsubscribe"] = "list-unsubscribe" in headers
        post = headers.get("list-unsubscribe-post")
        summary["list_unsubscribe_post"] = post is not None and str(post).replace(" ", "").lower() == "list-unsubscribe=one-click"
        summary["errors"], summary["alternative"] = inspect_parts(message)
    except Exception as error:  # noqa: BLE001 - any failure to parse is what we count
        summary["errors"].append(f"{type(error).__name__}: {error}")
    return summary


COUNT_HEADER = None


def _set_count_header(name):
    global COUNT_HEADER
    COUNT_HEADER = name


def summaries(files, count_header, jobs):
    _set_count_header(count_header)
    if jobs <= 1 or len(files) < 400:
        yield from map(summarise, files)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(jobs, initializer=_set_count_header, initargs=(count_header,)) as pool:
        yield from pool.imap(summarise, files, chunksize=100)


def check(folder, count_header=None, pattern=None, jobs=None):
    files = message_files(folder, pattern)
    envelopes = spool_envelopes(folder)
    report = {
        "count": 0,
        "unique_message_ids": 0,
        "duplicate_message_ids": [],
        "missing_headers": {name: 0 for name in CHECKED_HEADERS},
        "multipart_alternative": 0,
        "parse_errors": 0,
        "parse_error_samples": [],
        "subjects": {},
        "to": {},
        "rcpt_to": {},
        "by_x_header": {},
        "x_header_missing": 0,
        "list_unsubscribe": 0,
        "list_unsubscribe_post": 0,
        "bare_lf": 0,
        "smtp_sink_format": 0,
    }
    message_ids = collections.Counter()
    subjects = collections.Counter()
    to = collections.Counter()
    rcpt_to = collections.Counter()
    by_header = collections.Counter()
    jobs = jobs if jobs is not None else min(4, os.cpu_count() or 1)

    for summary in summaries(files, count_header, jobs):
        path = summary["path"]
        report["count"] += 1
        envelope = summary["sink_envelope"]
        if summary["sink"]:
            report["smtp_sink_format"] += 1
        else:
            envelope = envelopes.get(os.path.basename(path))
        if envelope:
            rcpt_to.update(envelope.get("rcpt_tos") or [])
        report["bare_lf"] += summary["bare_lf"]
        for name in summary["missing"]:
            report["missing_headers"][name] += 1
        if summary["message_id"] is not None:
            message_ids[summary["message_id"]] += 1
        if summary["subject"] is not None:
            subjects[summary["subject"]] += 1
        to.update(summary["to"])
        if count_header:
            if not summary["x_values"]:
                report["x_header_missing"] += 1
            by_header.update(summary["x_values"])
        report["list_unsubscribe"] += summary["list_unsubscribe"]
        report["list_unsubscribe_post"] += summary["list_unsubscribe_post"]
        report["multipart_alternative"] += summary["alternative"]
        if summary["errors"]:
            report["parse_errors"] += 1
            if len(report["parse_error_samples"]) < 10:
                report["parse_error_samples"].append({"file": os.path.relpath(path, folder), "errors": summary["errors"][:10]})

    report["unique_message_ids"] = len(message_ids)
    report["duplicate_message_ids"] = [mid for mid, n in message_ids.most_common() if n > 1][:20]
    report["subjects"] = dict(subjects.most_common(50))
    report["to"] = dict(to.most_common(50))
    report["rcpt_to"] = dict(rcpt_to.most_common(50))
    report["by_x_header"] = dict(sorted(by_header.items()))
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description="Summarise a folder of received messages as JSON")
    parser.add_argument("folder")
    parser.add_argument("--count-header", help="count the values of this header (e.g. X-Herald-Message)")
    parser.add_argument("--pattern", help="only files whose name matches this glob")
    parser.add_argument("--jobs", type=int, help="worker processes for large folders (default: up to 4, one per core)")
    options = parser.parse_args(argv)
    if not os.path.isdir(options.folder):
        print(f"check_mailbox: {options.folder} is not a folder", file=sys.stderr)
        return 2
    report = check(options.folder, options.count_header, options.pattern, options.jobs)
    json.dump(report, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
