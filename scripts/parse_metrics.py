#!/usr/bin/env python3
"""Parses a Prometheus text exposition (a file, or stdin) with prometheus_client's parser and prints its samples
as JSON: [{"name": ..., "labels": {...}, "value": ...}, ...]. The tests use it to prove /metrics is
valid Prometheus text and to read its values. Exits non-zero if the text does not parse."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1], encoding="utf-8").read() if len(sys.argv) > 1 else sys.stdin.read()
    samples = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.append({"family": family.name, "type": family.type, "name": sample.name, "labels": sample.labels, "value": sample.value})
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    main()
