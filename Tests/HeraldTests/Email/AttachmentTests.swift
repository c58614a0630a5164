import Foundation
import Herald
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import HeraldServer

/// Email attachments end to end: given inline or by URL in a trigger, or by the event type; checked and
/// stored with the event when it is accepted; sent to every recipient and on every retry as the same
/// bytes, read back with Python's `email` package (scripts/extract_attachment.py) from what a real SMTP
/// server (scripts/smtp_test_server.py) or the outbox received.
@Suite("Email attachments", .serialized, .dropsPostgresSchemas)
struct AttachmentTests {
    /// Requests a test file server answered, by path.
    final class Hits: Sendable {
        let counts = Mutex<[String: Int]>([:])
    }

    static let invoice = EventType(
        key: "invoice_ready", name: "Invoice ready", priority: .medium, channels: [.email, .inApp],
        templates: [
            .email: ["en": ["subject": "Your invoice", "html": "<p>Hello {{subscriber.name}}, your invoice is attached.</p>"]],
            .inApp: ["en": ["title": "Your invoice is ready", "body": "It is attached to the email."]],
        ])

    static func smtp(port: Int) -> SMTPServerConfiguration {
        SMTPServerConfiguration(host: "127.0.0.1", port: port, security: .none, maxConnections: 2, timeoutSeconds: 20)
    }

    /// A trigger body for `recipients` carrying `attachments` (JSON objects, written as they are).
    static func trigger(_ recipients: [String], attachments: [String], type: String = "invoice_ready") -> String {
        let names = recipients.map { "\"\($0)\"" }.joined(separator: ", ")
        return #"{"type": "\#(type)", "recipients": [\#(names)], "attachments": [\#(attachments.joined(separator: ", "))]}"#
    }

    static func inline(_ name: String, _ type: String, _ content: Data) -> String {
        #"{"filename": "\#(name)", "content_type": "\#(type)", "content": "\#(content.base64EncodedString())"}"#
    }

    /// The fields a problem+json answer names.
    static func fields(_ reply: APIClient.Reply) -> [String] {
        guard case .array(let errors)? = reply["errors"] else { return [] }
        return errors.compactMap { $0["field"]?.stringValue }
    }

    /// A tenant with the invoice type and subscribers `id → email`.
    static func tenant(_ api: APIClient, _ engine: HeraldEngine, subscribers: [(String, String)]) async throws -> (id: String, key: String) {
        let tenant = try await api.createTenant("Maple Court")
        try await engine.putEventType(tenantID: tenant.id, invoice)
        for (id, email) in subscribers {
            _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id, name: id.capitalized, email: email))
        }
        return tenant
    }

    // MARK: Acceptance

    @Test("a 2 MB PDF arrives byte for byte, to each recipient and on a retry after a 451 to DATA", arguments: StoreBackend.available)
    func pdfArrivesIntactAcrossARetry(_ backend: StoreBackend) async throws {
        // `later…` recipients: the whole message is sent, then DATA is answered 451 once; the retry is accepted.
        let server = try await SMTPTestServer.start(.init(extraArguments: ["--tempfail-data-prefix", "later"]))
        defer { server.stop() }
        let engine = try await TestEngine.make(on: backend) { configuration in
            configuration.email.smtp = Self.smtp(port: server.port)
            configuration.email.fromAddress = "notices@herald.test"
        }
        let pdf = MIMEAttachmentTests.pdf(2_000_000, seed: 42)
        try await engine.testAPI { api in
            let tenant = try await Self.tenant(api, engine, subscribers: [("ana", "later-ana@example.com"), ("ben", "ben@example.com")])
            let reply = try await api.send(
                .post, "/v1/events", auth: tenant.key,
                raw: Self.trigger(["ana", "ben"], attachments: [Self.inline("invoice-42.pdf", "application/pdf", pdf)]))
            #expect(reply.status == .accepted, "\(reply.text)")
            let eventID = try #require(reply["event_id"]?.stringValue)
            #expect(try await server.waitForMessages(2, timeout: 60))
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.store.messageCounts(tenantID: tenant.id, eventID: eventID)["sent"] == 2
                })
            // The event shows its file's name, type and size, never the bytes.
            let details = try await api.send(.get, "/v1/events/\(eventID)", auth: tenant.key)
            #expect(details["attachments"] == [["filename": "invoice-42.pdf", "content_type": "application/pdf", "size": 2_000_000]])
            #expect(!details.text.contains(String(pdf.base64EncodedString().prefix(200))))
            // Ana's email took two tries: the 451 to DATA, then the accepted retry. The in-app message has no file to carry.
            let settled = try await engine.settledMessages(tenantID: tenant.id, eventID: eventID)
            let ana = try #require(settled.first { $0.0.subscriberId == "ana" && $0.0.channel == .email })
            #expect(ana.1.map(\.outcome) == [.transientFailure, .sent], "\(ana.1.map(\.detail))")
            #expect(settled.filter { $0.0.channel == .inApp }.allSatisfy { $0.0.status == .delivered })
        }
        let deferred = server.spool.appendingPathComponent("deferred-1.eml")
        #expect(FileManager.default.fileExists(atPath: deferred.path), "the first try went all the way to DATA")
        let envelopes = try server.envelopes()
        #expect(envelopes.count == 2)
        var headers: [String: String] = [:]
        for (name, file) in [("deferred", deferred)] + envelopes.map({ ($0.rcptTos.joined(), server.spool.appendingPathComponent($0.file)) }) {
            let bytes = Array(try Data(contentsOf: file))
            let parsed = try await MIMEAttachmentTests.parse(bytes)
            #expect(parsed.structure == "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf)", "\(name)")
            #expect(parsed.defects == [], "\(name)")
            #expect(parsed.files.first?.filename == "invoice-42.pdf", "\(name)")
            #expect(parsed.files.count == 1 && parsed.files.first?.bytes == pdf, "\(name) carries the PDF byte for byte")
            let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
            headers[name] = lines.first { $0.hasPrefix("Message-ID:") }
        }
        #expect(headers["deferred"] != nil && headers["deferred"] == headers["later-ana@example.com"], "the retry is the same message")
    }

    @Test("too large, a refused type or name, bad base64, a program: 422 at trigger time, naming the attachment's field")
    func refusedAtTriggerTime() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await Self.tenant(api, engine, subscribers: [("ana", "ana@example.com")])
            let pdf = Data("%PDF-1.7\nsmall".utf8)
            let cases: [(String, String, [String])] = [
                (
                    "30 MB", Self.trigger(["ana"], attachments: [Self.inline("scan.pdf", "application/pdf", MIMEAttachmentTests.pdf(30_000_000))]),
                    ["attachments[0].content"]
                ),
                (
                    "12 MiB, within the body limit",
                    Self.trigger(["ana"], attachments: [Self.inline("scan.pdf", "application/pdf", MIMEAttachmentTests.pdf(12 << 20))]),
                    ["attachments[0].content"]
                ),
                (
                    "three files over 20 MiB together",
                    Self.trigger(
                        ["ana"],
                        attachments: (0..<3).map {
                            Self.inline("part\($0).pdf", "application/pdf", MIMEAttachmentTests.pdf(7 << 20, seed: UInt64($0)))
                        }),
                    ["attachments"]
                ),
                (
                    "refused type",
                    Self.trigger(
                        ["ana"],
                        attachments: [Self.inline("ok.pdf", "application/pdf", pdf), Self.inline("tool.bin", "application/x-msdownload", pdf)]),
                    ["attachments[1].content_type"]
                ),
                (
                    "refused extension", Self.trigger(["ana"], attachments: [Self.inline("invoice.pdf.exe", "application/pdf", pdf)]),
                    ["attachments[0].filename"]
                ),
                (
                    "line break in a name",
                    Self.trigger(["ana"], attachments: [Self.inline(#"a\r\nBcc: x@evil.example.pdf"#, "application/pdf", pdf)]),
                    ["attachments[0].filename"]
                ),
                (
                    "a program whatever its type",
                    Self.trigger(["ana"], attachments: [Self.inline("x.pdf", "application/pdf", Data("MZ\u{90}\u{0}rest".utf8))]),
                    ["attachments[0].content"]
                ),
                (
                    "invalid base64",
                    Self.trigger(["ana"], attachments: [#"{"filename": "a.pdf", "content_type": "application/pdf", "content": "JVBERi0x!!"}"#]),
                    ["attachments[0].content"]
                ),
                (
                    "content and url",
                    Self.trigger(
                        ["ana"],
                        attachments: [
                            #"{"filename": "a.pdf", "content_type": "application/pdf", "content": "JVBE", "url": "https://files.example.com/a.pdf"}"#
                        ]),
                    ["attachments[0]"]
                ),
                (
                    "no content type with content", Self.trigger(["ana"], attachments: [#"{"filename": "a.pdf", "content": "JVBERg=="}"#]),
                    ["attachments[0].content_type"]
                ),
                (
                    "unknown field",
                    Self.trigger(
                        ["ana"], attachments: [#"{"filename": "a.pdf", "content_type": "application/pdf", "content": "JVBERg==", "size": 4}"#]),
                    ["attachments[0].size"]
                ),
                (
                    "eleven files", Self.trigger(["ana"], attachments: (0..<11).map { Self.inline("f\($0).pdf", "application/pdf", pdf) }),
                    ["attachments"]
                ),
                (
                    "a URL to a private address", Self.trigger(["ana"], attachments: [#"{"filename": "a.pdf", "url": "http://127.0.0.1:9/a.pdf"}"#]),
                    ["attachments[0].url"]
                ),
                (
                    "a URL to localhost", Self.trigger(["ana"], attachments: [#"{"filename": "a.pdf", "url": "http://localhost:9/a.pdf"}"#]),
                    ["attachments[0].url"]
                ),
                (
                    "a URL to a link-local metadata address",
                    Self.trigger(["ana"], attachments: [#"{"filename": "a.pdf", "url": "http://169.254.169.254/latest"}"#]),
                    ["attachments[0].url"]
                ),
                (
                    "bulk: the second event's type",
                    #"{"events": [\#(Self.trigger(["ana"], attachments: [])), "#
                        + #"\#(Self.trigger(["ana"], attachments: [Self.inline("a.js", "text/javascript", pdf)]))]}"#,
                    ["events[1].attachments[0].filename", "events[1].attachments[0].content_type"]
                ),
            ]
            for (name, body, expected) in cases {
                let path = body.hasPrefix(#"{"events""#) ? "/v1/events/bulk" : "/v1/events"
                let reply = try await api.send(.post, path, auth: tenant.key, raw: body)
                #expect(reply.status == .unprocessableContent, "\(name): \(reply.status) \(reply.text.prefix(300))")
                #expect(reply.headers[.contentType] == "application/problem+json", "\(name)")
                #expect(Self.fields(reply) == expected, "\(name): \(reply.text.prefix(400))")
            }
            // The private address is refused by the destination policy, with why.
            let refused = try await api.send(
                .post, "/v1/events", auth: tenant.key,
                raw: Self.trigger(["ana"], attachments: [#"{"filename": "a.pdf", "url": "http://127.0.0.1:9/a.pdf"}"#]))
            #expect(refused.text.contains("loopback"))
            // Nothing was written by any of them.
            #expect(try await api.send(.get, "/v1/events", auth: tenant.key)["data"] == .array([]))
            // What lies outside the attachments still has the ordinary limit.
            let bigPayload =
                #"{"type": "invoice_ready", "recipients": ["ana"], "actor": "\#(String(repeating: "x", count: 2 << 20))", "attachments": []}"#
            let tooLarge = try await api.send(.post, "/v1/events", auth: tenant.key, raw: bigPayload)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(Self.fields(tooLarge) == ["body"])
        }
    }

    @Test("a schedule's trigger carries no files of its own: a 422 naming trigger.attachments")
    func schedulesCarryNoFiles() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await Self.tenant(api, engine, subscribers: [("ana", "ana@example.com")])
            let file = Self.inline("rota.pdf", "application/pdf", Data("%PDF-1.7\nrota".utf8))
            let body = #"{"cron": "0 8 * * *", "timezone": "UTC", "trigger": \#(Self.trigger(["ana"], attachments: [file]))}"#
            let reply = try await api.send(.post, "/v1/schedules", auth: tenant.key, raw: body)
            #expect(reply.status == .unprocessableContent, "\(reply.text)")
            #expect(Self.fields(reply).contains("trigger.attachments") || reply["field"]?.stringValue == "trigger.attachments", "\(reply.text)")
            let plain = #"{"cron": "0 8 * * *", "timezone": "UTC", "trigger": \#(Self.trigger(["ana"], attachments: []))}"#
            #expect(try await api.send(.post, "/v1/schedules", auth: tenant.key, raw: plain).status.isSuccess)
        }
    }

    @Test("a file behind a URL is fetched once, at trigger time, within the policy, size and type rules")
    func urlAttachments() async throws {
        let pdf = MIMEAttachmentTests.pdf(300_000, seed: 7)
        let hits = Hits()
        let router = Router()
        func serve(_ path: String, _ type: String?, _ body: Data, status: HTTPResponse.Status = .ok) {
            router.get(RouterPath(path)) { _, _ in
                hits.counts.withLock { $0[path, default: 0] += 1 }
                var headers = HTTPFields()
                if let type { headers[.contentType] = type }
                return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(body))))
            }
        }
        serve("invoice.pdf", "application/pdf", pdf)
        serve("untyped", nil, pdf)
        serve("big.pdf", "application/pdf", MIMEAttachmentTests.pdf(11 << 20))
        serve("setup", "application/x-msdownload", pdf)
        serve("gone.pdf", "text/plain", Data("gone".utf8), status: .notFound)
        // A body that starts and then stalls: the download's timeout covers the body, not only the head.
        router.get("slow.pdf") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/pdf"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "%PDF-1.7\n"))
                    try await Task.sleep(for: .seconds(4))
                    try await writer.finish(nil)
                })
        }
        let files = Application(router: router)
        try await files.test(.live) { client in
            let base = "http://127.0.0.1:\(try #require(client.port))"
            // The operator allows private networks (as a test of a loopback server must).
            let outbox = TestEngine.temporaryDirectory()
            let allowing = try await TestEngine.make { configuration in
                configuration.outbound.allowPrivateNetworks = true
                configuration.outbound.timeoutSeconds = 1
                configuration.email.outboxDirectory = outbox.path
            }
            try await allowing.testAPI { api in
                let tenant = try await Self.tenant(api, allowing, subscribers: [("ana", "ana@example.com"), ("ben", "ben@example.com")])
                let body = Self.trigger(
                    ["ana", "ben"],
                    attachments: [
                        #"{"filename": "invoice.pdf", "url": "\#(base)/invoice.pdf"}"#,
                        #"{"filename": "copy.pdf", "content_type": "application/pdf", "url": "\#(base)/untyped"}"#,
                    ])
                let accepted = try await api.send(.post, "/v1/events", auth: tenant.key, raw: body, headers: [.idempotencyKey: "invoice-42"])
                #expect(accepted.status == .accepted, "\(accepted.text)")
                let eventID = try #require(accepted["event_id"]?.stringValue)
                let stored = try await allowing.store.eventAttachments(eventID: eventID)
                #expect(stored.map(\.filename) == ["invoice.pdf", "copy.pdf"])
                #expect(stored.map(\.contentType) == ["application/pdf", "application/pdf"], "the answer's type, or the one given")
                #expect(stored.allSatisfy { $0.content == pdf })
                #expect(
                    try await allowing.eventually(timeout: 20) {
                        try await allowing.store.messageCounts(tenantID: tenant.id, eventID: eventID)["sent"] == 2
                    })
                // Both recipients got the bytes fetched once.
                #expect(hits.counts.withLock { $0 } == ["invoice.pdf": 1, "untyped": 1])
                // The same request again is answered with the first receipt, without fetching anything again.
                let replay = try await api.send(.post, "/v1/events", auth: tenant.key, raw: body, headers: [.idempotencyKey: "invoice-42"])
                #expect(replay.status == .accepted && replay["event_id"]?.stringValue == eventID)
                #expect(replay.headers[.idempotentReplayed] == "true")
                #expect(hits.counts.withLock { $0 } == ["invoice.pdf": 1, "untyped": 1])
                let emails = try FileManager.default.contentsOfDirectory(at: outbox, includingPropertiesForKeys: nil).filter {
                    $0.pathExtension == "eml"
                }
                #expect(emails.count == 2)
                for email in emails {
                    let parsed = try await MIMEAttachmentTests.parse(Array(try Data(contentsOf: email)))
                    #expect(parsed.files.map(\.bytes) == [pdf, pdf])
                    #expect(parsed.files.map(\.filename) == ["invoice.pdf", "copy.pdf"])
                }
                // What the URL answers must pass the same rules as inline content.
                for (path, reason) in [
                    ("big.pdf", "larger than 10 MiB"), ("setup", "runs code"), ("gone.pdf", "HTTP 404"), ("slow.pdf", "no answer within 1 s"),
                ] {
                    let reply = try await api.send(
                        .post, "/v1/events", auth: tenant.key,
                        raw: Self.trigger(["ana"], attachments: [#"{"filename": "f.pdf", "url": "\#(base)/\#(path)"}"#]))
                    #expect(reply.status == .unprocessableContent, "\(path)")
                    #expect(Self.fields(reply) == ["attachments[0].url"], "\(path): \(reply.text)")
                    #expect(reply.text.contains(reason), "\(path): \(reply.text)")
                }
            }
            // Without the operator's permission the same server is out of reach, and nothing is fetched.
            let before = hits.counts.withLock { $0 }
            let strict = try await TestEngine.make()
            try await strict.testAPI { api in
                let tenant = try await Self.tenant(api, strict, subscribers: [("ana", "ana@example.com")])
                let reply = try await api.send(
                    .post, "/v1/events", auth: tenant.key,
                    raw: Self.trigger(["ana"], attachments: [#"{"filename": "invoice.pdf", "url": "\#(base)/invoice.pdf"}"#]))
                #expect(reply.status == .unprocessableContent)
                #expect(Self.fields(reply) == ["attachments[0].url"])
                #expect(reply.text.contains("loopback"), "\(reply.text)")
            }
            #expect(hits.counts.withLock { $0 } == before)
        }
    }

    @Test("an event type's own files go with every event of it, checked when the type is saved, kept per event", arguments: StoreBackend.available)
    func eventTypeAttachments(_ backend: StoreBackend) async throws {
        let outbox = TestEngine.temporaryDirectory()
        let engine = try await TestEngine.make(on: backend) { $0.email.outboxDirectory = outbox.path }
        let terms = MIMEAttachmentTests.pdf(50_000, seed: 3)
        let newTerms = MIMEAttachmentTests.pdf(40_000, seed: 4)
        try await engine.testAPI { api in
            let tenant = try await Self.tenant(api, engine, subscribers: [("ana", "ana@example.com")])
            func typeBody(_ attachments: String, channels: String = #"["email"]"#) -> String {
                #"{"priority": "medium", "channels": \#(channels), "#
                    + #""templates": {"email": {"en": {"subject": "Lease", "html": "<p>Your lease</p>"}}}, "attachments": [\#(attachments)]}"#
            }
            let saved = try await api.send(
                .put, "/v1/event-types/lease_signed", auth: tenant.key, raw: typeBody(Self.inline("terms.pdf", "application/pdf", terms)))
            #expect(saved.status == .created, "\(saved.text)")
            #expect(try await api.send(.get, "/v1/event-types/lease_signed", auth: tenant.key).text.contains(#""filename":"terms.pdf""#))
            // Checked when saved: no URLs, no programs, only with an email channel.
            for (body, field) in [
                (typeBody(#"{"filename": "t.pdf", "url": "https://files.example.com/t.pdf"}"#), "attachments[0].url"),
                (typeBody(Self.inline("terms.exe", "application/pdf", terms)), "attachments[0].filename"),
                (typeBody(Self.inline("terms.pdf", "application/pdf", terms), channels: #"["in_app"]"#), "attachments"),
            ] {
                let reply = try await api.send(.put, "/v1/event-types/lease_bad", auth: tenant.key, raw: body)
                #expect(reply.status == .unprocessableContent, "\(reply.text)")
                #expect(Self.fields(reply).contains(field), "\(reply.text)")
            }
            // Without files of its own, a trigger sends the type's; with some, the type's come first.
            let first = try await api.send(.post, "/v1/events", auth: tenant.key, raw: #"{"type": "lease_signed", "recipients": ["ana"]}"#)
            let firstID = try #require(first["event_id"]?.stringValue)
            let second = try await api.send(
                .post, "/v1/events", auth: tenant.key,
                raw: Self.trigger(["ana"], attachments: [Self.inline("inventory.csv", "text/csv", Data("room;item\n".utf8))], type: "lease_signed"))
            let secondID = try #require(second["event_id"]?.stringValue, "\(second.text)")
            #expect(try await engine.store.eventAttachments(eventID: firstID).map(\.filename) == ["terms.pdf"])
            #expect(try await engine.store.eventAttachments(eventID: secondID).map(\.filename) == ["terms.pdf", "inventory.csv"])
            // A later edit of the type changes later events only.
            #expect(
                try await api.send(
                    .put, "/v1/event-types/lease_signed", auth: tenant.key, raw: typeBody(Self.inline("terms.pdf", "application/pdf", newTerms))
                ).status == .ok)
            #expect(try await engine.store.eventAttachments(eventID: firstID).first?.content == terms)
            #expect(
                try await engine.eventually(timeout: 20) {
                    let second = try await engine.store.messageCounts(tenantID: tenant.id, eventID: secondID)["sent"]
                    let first = try await engine.store.messageCounts(tenantID: tenant.id, eventID: firstID)["sent"]
                    return first == 1 && second == 1
                })
            let emails = try FileManager.default.contentsOfDirectory(at: outbox, includingPropertiesForKeys: nil).filter { $0.pathExtension == "eml" }
            var seen: [[String?]] = []
            for email in emails {
                let parsed = try await MIMEAttachmentTests.parse(Array(try Data(contentsOf: email)))
                #expect(parsed.files.first?.bytes == terms)
                seen.append(parsed.files.map(\.filename))
            }
            #expect(Set(seen) == [["terms.pdf"], ["terms.pdf", "inventory.csv"]])
        }
    }

    @Test("a topic fan-out and a scheduled send carry the event's files; retention removes them with the event", arguments: StoreBackend.available)
    func fanOutScheduledAndRetention(_ backend: StoreBackend) async throws {
        let outbox = TestEngine.temporaryDirectory()
        let engine = try await TestEngine.make(on: backend) {
            $0.email.outboxDirectory = outbox.path
            $0.dispatch.batchSize = 2
        }
        let pdf = MIMEAttachmentTests.pdf(120_000, seed: 9)
        let (tenant, _) = try await engine.createTenant(name: "Maple Court")
        try await engine.putEventType(tenantID: tenant.id, Self.invoice)
        _ = try await engine.upsertTopic(tenantID: tenant.id, key: "residents", name: nil)
        let ids = (0..<5).map { "r\($0)" }
        _ = try await engine.upsertSubscribers(tenantID: tenant.id, ids.map { SubscriberInput(id: $0, name: $0, email: "\($0)@example.com") })
        _ = try await engine.addTopicMembers(tenantID: tenant.id, key: "residents", subscriberIDs: ids)
        let trigger = {
            var trigger = Trigger(type: "invoice_ready", recipients: [.topic("residents")])
            trigger.delay = "1s"
            trigger.attachments = [Attachment(filename: "notice.pdf", contentType: "application/pdf", content: pdf)]
            return trigger
        }()
        let eventID = try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(trigger, tenantID: tenant.id)
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.store.messageCounts(tenantID: tenant.id, eventID: receipt.eventId)["sent"] == 5
                })
            return receipt.eventId
        }
        let emails = try FileManager.default.contentsOfDirectory(at: outbox, includingPropertiesForKeys: nil).filter { $0.pathExtension == "eml" }
        #expect(emails.count == 5)
        for email in emails {
            #expect(try await MIMEAttachmentTests.parse(Array(try Data(contentsOf: email))).files.map(\.bytes) == [pdf])
        }
        #expect(try await engine.store.attachmentSizes(eventIDs: [eventID]) == [eventID: pdf.count])
        // Past its retention the event goes, and its files with it.
        _ = try await engine.store.deleteExpired(now: Date().addingTimeInterval(400 * 86_400), idempotencyCutoff: Date(), limit: 1000)
        _ = try await engine.store.deleteExpired(now: Date().addingTimeInterval(400 * 86_400), idempotencyCutoff: Date(), limit: 1000)
        #expect(try await engine.store.attachmentSizes(eventIDs: [eventID]) == [:])
        #expect(try await engine.store.eventAttachments(eventID: eventID) == [])
    }

    @Test("a bulk request carries its triggers' files, each stored with its own event")
    func bulk() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await Self.tenant(api, engine, subscribers: [("ana", "ana@example.com")])
            let a = Data("%PDF-a".utf8)
            let b = Data("%PDF-b".utf8)
            let reply = try await api.send(
                .post, "/v1/events/bulk", auth: tenant.key,
                raw:
                    #"{"events": [\#(Self.trigger(["ana"], attachments: [Self.inline("a.pdf", "application/pdf", a)])), "#
                    + #"\#(Self.trigger(["ana"], attachments: [Self.inline("b.pdf", "application/pdf", b)]))]}"#
            )
            #expect(reply.status == .accepted, "\(reply.text)")
            guard case .array(let receipts)? = reply["data"] else {
                Issue.record("no receipts: \(reply.text)")
                return
            }
            let events = receipts.compactMap { $0["event_id"]?.stringValue }
            #expect(events.count == 2)
            for (eventID, content) in zip(events, [a, b]) {
                #expect(try await engine.store.eventAttachments(eventID: eventID).map(\.content) == [content])
            }
        }
    }

    // MARK: Reading bodies past the ordinary limit

    @Test("the scanner counts the bytes inside attachments and finds the field a cut-off body ends in")
    func scanner() {
        func scan(_ text: String, _ counts: @escaping ([JSONPathScanner.Component]) -> Bool = { $0 == [.key("attachments")] })
            -> JSONPathScanner.Result
        {
            Array(text.utf8).withUnsafeBytes { JSONPathScanner.scan($0, counts: counts) }
        }
        let whole = #"{"type": "t", "attachments": [{"filename": "a\"b.pdf", "content": "QUJD"}], "actor": "x"}"#
        let result = scan(whole)
        let inside = #"[{"filename": "a\"b.pdf", "content": "QUJD"}]"#
        #expect(result.inside == inside.utf8.count)
        #expect(result.outside == whole.utf8.count - inside.utf8.count)
        #expect(result.pathAtEnd == [])
        let cut = scan(#"{"type": "t", "attachments": [{"filename": "a.pdf"}, {"filename": "b.pdf", "content": "QUJDRE"#)
        #expect(JSONPathScanner.fieldPath(cut.pathAtEnd) == "attachments[1].content")
        let bulk = scan(#"{"events": [{"type": "t"}, {"type": "u", "attachments": [{"content": "QUJ"#) { path in
            path.count == 3 && path[0] == .key("events") && path[2] == .key("attachments")
        }
        #expect(JSONPathScanner.fieldPath(bulk.pathAtEnd) == "events[1].attachments[0].content")
        // A payload field named attachments is not the trigger's: it counts against the ordinary limit.
        let nested = scan(#"{"payload": {"attachments": "xxxxxxxx"}}"#)
        #expect(nested.inside == 0)
        // Keys and values with escapes, numbers, literals and nesting do not confuse it.
        let tricky = scan(#"{"a\\": [1, -2.5e3, true, null, {"b": "\\\""}], "attachments": [{"x": [1, {"y": "z"}]}], "c": 0}"#)
        #expect(tricky.inside == #"[{"x": [1, {"y": "z"}]}]"#.utf8.count)
    }

    @Test("past the ordinary limit, over HTTP: a file is named, a body too large elsewhere is 413, and a burst of large bodies is bounded")
    func largeBodies() async throws {
        let engine = try await TestEngine.make { $0.maxBodyBytes = 4096 }
        try await engine.testAPI { api in
            let tenant = try await Self.tenant(api, engine, subscribers: [("ana", "ana@example.com")])
            // 100 KB of file in a body limited to 4 KiB: accepted, the file being within its own limits.
            let file = MIMEAttachmentTests.pdf(100_000)
            let accepted = try await api.send(
                .post, "/v1/events", auth: tenant.key, raw: Self.trigger(["ana"], attachments: [Self.inline("a.pdf", "application/pdf", file)]))
            #expect(accepted.status == .accepted, "\(accepted.text)")
            // The body limit still holds for everything else.
            let payload = try await api.send(
                .post, "/v1/events", auth: tenant.key,
                raw: #"{"type": "invoice_ready", "recipients": ["ana"], "actor": "\#(String(repeating: "y", count: 5000))"}"#)
            #expect(payload.status == .contentTooLarge)
        }
        let gate = LargeBodyGate(limit: 2)
        #expect(gate.enter() && gate.enter())
        #expect(!gate.enter(), "a third large body at once is refused")
        gate.leave()
        #expect(gate.enter())
    }
}
