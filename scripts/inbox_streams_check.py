#!/usr/bin/env python3
"""Opens one Server-Sent Events stream per subscriber and checks that each receives only its own messages.

Round 1: one message per subscriber (one bulk trigger); every stream must receive exactly its own.
Then half the streams are dropped abruptly (socket closed mid-stream). Round 2: one more message per
subscriber; every remaining stream must receive exactly its own, none of anyone else's, undisturbed.
Prints one JSON object with the counts and latencies.
"""
import argparse
import asyncio
import json
import statistics
import time
import urllib.parse
import urllib.request


class Stream:
    def __init__(self, subscriber, token):
        self.subscriber = subscriber
        self.token = token
        self.titles = []          # every message.created title, in order
        self.arrivals = {}        # title -> arrival time
        self.ready = asyncio.Event()
        self.reader = None
        self.writer = None
        self.task = None

    async def run(self, host, port):
        self.reader, self.writer = await asyncio.open_connection(host, port)
        path = "/v1/inbox/stream?token=" + urllib.parse.quote(self.token, safe="")
        self.writer.write(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n" % (path, host, port)).encode())
        await self.writer.drain()
        status = await self.reader.readline()
        if b" 200 " not in status:
            raise RuntimeError("stream for %s answered %r" % (self.subscriber, status))
        while (await self.reader.readline()) not in (b"\r\n", b""):
            pass
        event, data, buffer = None, None, b""
        # Chunked transfer encoding: read chunk sizes, then split the payload into SSE lines.
        while True:
            size_line = await self.reader.readline()
            if not size_line:
                return
            size = int(size_line.strip() or b"0", 16)
            if size == 0:
                return
            buffer += await self.reader.readexactly(size)
            await self.reader.readexactly(2)
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                line = line.decode()
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "":
                    if event == "inbox.counts":
                        self.ready.set()
                    elif event == "message.created" and data:
                        title = json.loads(data)["message"]["title"]
                        self.titles.append(title)
                        self.arrivals.setdefault(title, time.time())
                    event, data = None, None

    def drop(self):
        self.task.cancel()
        if self.writer:
            self.writer.transport.abort()


def post(api, key, path, body):
    request = urllib.request.Request(api + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Authorization", "Bearer " + key)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


async def wait_until(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


async def round_of(api, key, streams, label, timeout):
    started = time.time()
    triggers = [{"type": "announcement_posted", "recipients": [{"subscriber_id": s.subscriber}],
                 "payload": {"title": "%s for %s" % (label, s.subscriber), "excerpt": "x"}} for s in streams]
    await asyncio.get_running_loop().run_in_executor(None, post, api, key, "/v1/events/bulk", {"events": triggers})

    def own(s):
        return "%s for %s" % (label, s.subscriber)

    await wait_until(lambda: all(any(own(s) in t for t in s.titles) for s in streams), timeout)
    received = sum(1 for s in streams if any(own(s) in t for t in s.titles))
    latencies = [(s.arrivals[t] - started) * 1000 for s in streams for t in s.titles if own(s) in t]
    return received, latencies


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--key", required=True)
    parser.add_argument("--tokens", required=True, help="JSON file: {subscriber_id: token}")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    tokens = json.load(open(args.tokens))
    url = urllib.parse.urlparse(args.api)
    streams = [Stream(subscriber, token) for subscriber, token in sorted(tokens.items())]
    for stream in streams:
        stream.task = asyncio.ensure_future(stream.run(url.hostname, url.port))
    connected = await wait_until(lambda: all(s.ready.is_set() for s in streams), args.timeout)
    result = {"streams": len(streams), "connected": sum(1 for s in streams if s.ready.is_set())}
    if not connected:
        print(json.dumps(result))
        return

    received, latencies = await round_of(args.api, args.key, streams, "Round one", args.timeout)
    result["round1_received"] = received
    result["round1_latency_ms"] = {"median": statistics.median(latencies), "max": max(latencies)} if latencies else None

    dropped, kept = streams[1::2], streams[0::2]
    for stream in dropped:
        stream.drop()
    received, latencies = await round_of(args.api, args.key, kept, "Round two", args.timeout)
    result["dropped"] = len(dropped)
    result["round2_received"] = received
    result["round2_latency_ms"] = {"median": statistics.median(latencies), "max": max(latencies)} if latencies else None
    # Anything a stream received that was not addressed to its own subscriber.
    result["foreign"] = sum(1 for s in streams for t in s.titles if ("for " + s.subscriber) not in t)
    result["duplicates"] = sum(len(s.titles) - len(set(s.titles)) for s in streams)
    result["kept_messages"] = sum(len(s.titles) for s in kept)
    for stream in kept:
        stream.drop()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
