import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Real SMTP servers for the email tests, run as child processes on 127.0.0.1:
//
// - `SMTPTestServer`: scripts/smtp_test_server.py (aiosmtpd). Spools every accepted message as
//   `<spool>/<seq>.eml` plus a line in `<spool>/envelopes.jsonl`; refuses recipients by local-part prefix
//   (451 then accept, or 550); optional AUTH, STARTTLS or implicit TLS. Can be stopped and restarted on
//   the same port and spool.
// - `SMTPSink`: Postfix's smtp-sink, dumping each message to a file.
// - `Mailbox.check`: scripts/check_mailbox.py over either folder, decoded into `MailboxReport`.
// - `TestCertificate.make`: a self-signed certificate for localhost and 127.0.0.1 (scripts/make_test_cert.sh).
//
// Every wait is bounded, and the processes are stopped by `stop()` or, at the latest, when the object goes away.

struct SMTPHarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - aiosmtpd server

/// scripts/smtp_test_server.py as a child process. Its stdout and stderr go to `directory/server-<n>.out`
/// and `.err`; the spool is `directory/spool`.
final class SMTPTestServer: @unchecked Sendable {
    struct Credentials: Sendable, Equatable {
        var user: String
        var password: String
    }

    struct Options: Sendable {
        /// RCPTs whose local part starts with this get `451 4.3.0 Try again later` the first `tempfailTimes`
        /// times that address is seen, then are accepted.
        var tempfailPrefix = "tempfail"
        var tempfailTimes = 1
        /// RCPTs whose local part starts with this always get `550 5.1.1 No such user here`.
        var rejectPrefix = "reject"
        /// The one AUTH user (PLAIN and LOGIN). Without it the server does not offer AUTH.
        var credentials: Credentials? = nil
        /// MAIL, RCPT and DATA before AUTH get `530 5.7.0 Authentication required`. Needs `credentials`.
        var authRequired = false
        /// Offer AUTH on a connection without TLS; otherwise AUTH comes only after STARTTLS (or inside implicit TLS).
        var allowPlainAuth = false
        /// Offer STARTTLS with this certificate.
        var startTLS: TestCertificate? = nil
        /// Refuse everything but EHLO, NOOP, STARTTLS and QUIT before STARTTLS (530).
        var requireStartTLS = false
        /// SMTPS: TLS from the first byte, with this certificate. Exclusive with `startTLS`.
        var implicitTLS: TestCertificate? = nil
        /// Advertised as `SIZE`; bigger messages get 552.
        var dataSizeLimit = 10 * 1024 * 1024
        /// The name in the greeting and the EHLO reply.
        var hostname = "localhost"
        /// Any further options of smtp_test_server.py.
        var extraArguments: [String] = []

        init(
            tempfailPrefix: String = "tempfail", tempfailTimes: Int = 1, rejectPrefix: String = "reject", credentials: Credentials? = nil,
            authRequired: Bool = false, allowPlainAuth: Bool = false, startTLS: TestCertificate? = nil, requireStartTLS: Bool = false,
            implicitTLS: TestCertificate? = nil, dataSizeLimit: Int = 10 * 1024 * 1024, hostname: String = "localhost",
            extraArguments: [String] = []
        ) {
            self.tempfailPrefix = tempfailPrefix
            self.tempfailTimes = tempfailTimes
            self.rejectPrefix = rejectPrefix
            self.credentials = credentials
            self.authRequired = authRequired
            self.allowPlainAuth = allowPlainAuth
            self.startTLS = startTLS
            self.requireStartTLS = requireStartTLS
            self.implicitTLS = implicitTLS
            self.dataSizeLimit = dataSizeLimit
            self.hostname = hostname
            self.extraArguments = extraArguments
        }

        var arguments: [String] {
            var arguments = [
                "--tempfail-prefix", tempfailPrefix, "--tempfail-times", String(tempfailTimes), "--reject-prefix", rejectPrefix,
                "--data-size-limit", String(dataSizeLimit), "--hostname", hostname,
            ]
            if let credentials { arguments += ["--user", credentials.user, "--password", credentials.password] }
            if authRequired { arguments.append("--auth-required") }
            if allowPlainAuth { arguments.append("--allow-plain-auth") }
            if let startTLS { arguments += ["--starttls-cert", startTLS.certPath, "--starttls-key", startTLS.keyPath] }
            if requireStartTLS { arguments.append("--require-starttls") }
            if let implicitTLS { arguments += ["--implicit-tls-cert", implicitTLS.certPath, "--implicit-tls-key", implicitTLS.keyPath] }
            return arguments + extraArguments
        }
    }

    /// One line of `envelopes.jsonl`: one accepted message.
    struct Envelope: Codable, Sendable, Equatable {
        var seq: Int
        /// The file name in the spool, e.g. `00000001.eml`.
        var file: String
        var mailFrom: String
        var rcptTos: [String]
        /// `127.0.0.1:<client port>`
        var peer: String
        /// The connection number, counted from 1 over the server's whole life (restarts included).
        var session: Int
        /// Whether the message came over TLS (STARTTLS or implicit).
        var tls: Bool
        /// Whether the session had authenticated.
        var auth: Bool

        enum CodingKeys: String, CodingKey {
            case seq, file, peer, session, tls, auth
            case mailFrom = "mail_from"
            case rcptTos = "rcpt_tos"
        }
    }

    /// One line of `refusals.jsonl`: a RCPT refused with 451 or 550.
    struct Refusal: Codable, Sendable, Equatable {
        var rcpt: String
        /// The whole reply, e.g. `451 4.3.0 Try again later`.
        var reply: String
        var session: Int
        var code: Int { Int(reply.prefix(3)) ?? 0 }
    }

    let options: Options
    /// The loopback port; the same after `restart()`.
    let port: Int
    /// The folder holding the spool and the server's output.
    let directory: URL
    /// `<seq>.eml`, `envelopes.jsonl`, `refusals.jsonl`, `connections.txt`, `tempfail.json`.
    let spool: URL
    private let lock = NSLock()
    private var process: ChildProcess?
    private var launches = 1

    private init(options: Options, port: Int, directory: URL, spool: URL, process: ChildProcess) {
        self.options = options
        self.port = port
        self.directory = directory
        self.spool = spool
        self.process = process
    }

    static var script: URL { TestEngine.repositoryRoot.appendingPathComponent("scripts/smtp_test_server.py") }

    /// Starts the server on a free loopback port with a fresh spool, and waits (up to `timeout` seconds)
    /// until it listens.
    static func start(_ options: Options = Options(), timeout: Double = 30) async throws -> SMTPTestServer {
        let directory = TestEngine.temporaryDirectory()
        let spool = directory.appendingPathComponent("spool")
        try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
        let (process, port) = try await launch(options: options, port: 0, directory: directory, spool: spool, number: 1, timeout: timeout)
        return SMTPTestServer(options: options, port: port, directory: directory, spool: spool, process: process)
    }

    private static func launch(
        options: Options, port: Int, directory: URL, spool: URL, number: Int, timeout: Double
    ) async throws -> (ChildProcess, Int) {
        let arguments = [script.path, "--host", "127.0.0.1", "--port", String(port), "--spool", spool.path] + options.arguments
        let process = try ChildProcess(
            python: arguments, stdout: directory.appendingPathComponent("server-\(number).out"),
            stderr: directory.appendingPathComponent("server-\(number).err"))
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let output = process.output()
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let ready = Int(line.dropFirst(6)) {
                return (process, ready)
            }
            guard process.isRunning else {
                throw SMTPHarnessError(
                    "smtp_test_server.py exited with status \(process.terminationStatus) before it was ready:\n\(process.errorOutput().suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.stop()
        throw SMTPHarnessError("smtp_test_server.py did not print READY within \(timeout) s:\n\(process.errorOutput().suffix(3000))")
    }

    var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// SIGTERM, then waits (up to 5 s, then SIGKILL) for the server to exit. Open connections are dropped.
    func stop() {
        let running = lock.withLock {
            defer { process = nil }
            return process
        }
        running?.stop()
    }

    /// Starts the server again on the same port and spool (after `stop()`, or stops it first). Sequence
    /// numbers, connection numbers and tempfail counts carry on. Retries while the port is still taken,
    /// up to `timeout` seconds.
    func restart(timeout: Double = 30) async throws {
        stop()
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: any Error = SMTPHarnessError("not restarted")
        while Date() < deadline {
            let number = lock.withLock {
                launches += 1
                return launches
            }
            do {
                let (process, _) = try await Self.launch(
                    options: options, port: port, directory: directory, spool: spool, number: number,
                    timeout: max(1, deadline.timeIntervalSinceNow))
                lock.withLock { self.process = process }
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError
    }

    /// Messages accepted so far (complete lines of envelopes.jsonl; each is written after its .eml is in place).
    func receivedCount() -> Int {
        guard let data = try? Data(contentsOf: spool.appendingPathComponent("envelopes.jsonl")) else { return 0 }
        return data.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }

    /// Every accepted message's envelope, in the order accepted.
    func envelopes() throws -> [Envelope] {
        try Self.jsonLines(spool.appendingPathComponent("envelopes.jsonl"))
    }

    /// Every refused RCPT, in order.
    func refusals() throws -> [Refusal] {
        try Self.jsonLines(spool.appendingPathComponent("refusals.jsonl"))
    }

    /// Connections opened so far, over the server's whole life (restarts included).
    func connectionCount() -> Int {
        guard let text = try? String(contentsOf: spool.appendingPathComponent("connections.txt"), encoding: .utf8) else { return 0 }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// The raw bytes of an accepted message, as the client sent them between DATA and the final dot (dot-unstuffed).
    func message(_ envelope: Envelope) throws -> Data {
        try Data(contentsOf: spool.appendingPathComponent(envelope.file))
    }

    /// Waits until at least `count` messages are accepted, up to `timeout` seconds; returns whether they were.
    func waitForMessages(_ count: Int, timeout: Double = 10) async throws -> Bool {
        try await SMTPHarness.eventually(timeout: timeout) { receivedCount() >= count }
    }

    /// check_mailbox.py over the spool.
    func mailbox(countHeader: String? = nil) throws -> MailboxReport {
        try Mailbox.check(folder: spool, countHeader: countHeader)
    }

    /// The server's stderr, all launches.
    func log() -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".err") }.sorted().compactMap {
            try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
    }

    private static func jsonLines<T: Decodable>(_ file: URL) throws -> [T] {
        guard let data = try? Data(contentsOf: file) else { return [] }
        let decoder = JSONDecoder()
        // A line still being written has no newline yet: skip it.
        return try data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().compactMap { line in
            line.isEmpty ? nil : try decoder.decode(T.self, from: Data(line))
        }
    }

    deinit { process?.stop() }
}

// MARK: - Postfix smtp-sink

/// Postfix's `smtp-sink` as a child process on 127.0.0.1, dumping each message to `dump/<HHMMSS>.<random hex>`.
///
/// Command: `smtp-sink [-u <user> when root] -c -h localhost -d <dump>/%H%M%S. [extra] 127.0.0.1:<port> 256`.
/// Each dump file holds smtp-sink's own header block (X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args,
/// one X-Rcpt-Args per recipient, a three-line Received), then the message as received (dot-unstuffed, LF line
/// endings), then an empty line. check_mailbox.py removes that block and reads the envelope from it.
/// smtp-sink advertises PIPELINING, 8BITMIME, AUTH PLAIN LOGIN (accepting anything), ENHANCEDSTATUSCODES and
/// DSN, but not SIZE or STARTTLS.
final class SMTPSink: @unchecked Sendable {
    /// Sessions, QUITs and messages, from smtp-sink's `-c` counters.
    struct Counters: Sendable, Equatable {
        var sessions: Int
        var quits: Int
        var messages: Int
    }

    let port: Int
    let directory: URL
    /// The folder of dump files.
    let dump: URL
    let extraArguments: [String]
    private let lock = NSLock()
    private var process: ChildProcess?
    private var launches = 1
    /// Sessions opened by the readiness probe, one per launch; subtracted from `counters().sessions`.
    private var probes = 0
    /// Counters of earlier launches (each launch counts from zero).
    private var earlier = Counters(sessions: 0, quits: 0, messages: 0)

    private init(port: Int, directory: URL, dump: URL, extraArguments: [String], process: ChildProcess) {
        self.port = port
        self.directory = directory
        self.dump = dump
        self.extraArguments = extraArguments
        self.process = process
        self.probes = 1
    }

    /// `$SMTP_SINK`, else the first smtp-sink in the usual places (Debian: /usr/sbin, from the postfix package).
    static var executable: URL? {
        var candidates = ["/usr/sbin/smtp-sink", "/usr/local/sbin/smtp-sink", "/opt/homebrew/sbin/smtp-sink", "/usr/bin/smtp-sink"]
        if let path = ProcessInfo.processInfo.environment["SMTP_SINK"], !path.isEmpty { candidates.insert(path, at: 0) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map { URL(fileURLWithPath: $0) }
    }

    static var isAvailable: Bool { executable != nil }

    /// Starts smtp-sink on a free loopback port (another port if that one gets taken meanwhile) and waits, up to
    /// `timeout` seconds, until it accepts connections. `extraArguments` go before the address: smtp-sink's fault
    /// options, e.g. `["-r", "RCPT"]` (soft-reject every RCPT) or `["-Q", "DATA"]` (421 and hang up after DATA).
    static func start(extraArguments: [String] = [], timeout: Double = 30) async throws -> SMTPSink {
        guard executable != nil else { throw SMTPHarnessError("smtp-sink not found (install postfix, or set SMTP_SINK)") }
        let directory = TestEngine.temporaryDirectory()
        let dump = directory.appendingPathComponent("dump")
        try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true)
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: any Error = SMTPHarnessError("smtp-sink did not start")
        var attempt = 0
        while Date() < deadline {
            attempt += 1
            do {
                let port = try SMTPHarness.freePort()
                let process = try await launch(
                    port: port, directory: directory, dump: dump, extraArguments: extraArguments, number: attempt,
                    timeout: max(1, deadline.timeIntervalSinceNow))
                return SMTPSink(port: port, directory: directory, dump: dump, extraArguments: extraArguments, process: process)
            } catch {
                lastError = error  // most likely the port was taken between picking and binding it
            }
        }
        throw lastError
    }

    private static func launch(
        port: Int, directory: URL, dump: URL, extraArguments: [String], number: Int, timeout: Double
    ) async throws -> ChildProcess {
        guard let executable else { throw SMTPHarnessError("smtp-sink not found") }
        var arguments: [String] = []
        // smtp-sink refuses to run as root unless told which user to switch to after binding.
        if geteuid() == 0 { arguments += ["-u", SMTPHarness.userName(uid: 0) ?? "root"] }
        arguments += ["-c", "-h", "localhost", "-d", dump.path + "/%H%M%S."]
        arguments += extraArguments
        arguments += ["127.0.0.1:\(port)", "256"]
        let process = try ChildProcess(
            python: ["-c", SMTPHarness.execWithSignalsUnblocked, executable.path] + arguments,
            stdout: directory.appendingPathComponent("sink-\(number).out"), stderr: directory.appendingPathComponent("sink-\(number).err"))
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else {
                throw SMTPHarnessError("smtp-sink exited with status \(process.terminationStatus):\n\(process.errorOutput().suffix(2000))")
            }
            if SMTPHarness.canConnect(port: port) { return process }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.stop()
        throw SMTPHarnessError("smtp-sink did not accept connections within \(timeout) s:\n\(process.errorOutput().suffix(2000))")
    }

    var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// SIGTERM, then waits (up to 5 s, then SIGKILL) for smtp-sink to exit.
    func stop() {
        let running: ChildProcess? = lock.withLock {
            defer { process = nil }
            return process
        }
        guard let running else { return }
        running.stop()
        let last = Self.parseCounters(running.output())
        if let last {
            lock.withLock {
                earlier.sessions += last.sessions
                earlier.quits += last.quits
                earlier.messages += last.messages
            }
        }
    }

    /// Starts smtp-sink again on the same port and dump folder, retrying while the port is taken, up to `timeout` seconds.
    func restart(timeout: Double = 30) async throws {
        stop()
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: any Error = SMTPHarnessError("not restarted")
        while Date() < deadline {
            let number = lock.withLock {
                launches += 1
                return launches
            }
            do {
                let process = try await Self.launch(
                    port: port, directory: directory, dump: dump, extraArguments: extraArguments, number: number,
                    timeout: max(1, deadline.timeIntervalSinceNow))
                lock.withLock {
                    self.process = process
                    probes += 1
                }
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError
    }

    /// Dump files so far. A file appears when a transaction starts, so one in progress is counted too;
    /// `counters().messages` counts only messages that reached the final dot.
    func receivedCount() -> Int {
        SMTPHarness.files(in: dump).count
    }

    /// smtp-sink's running counters over all launches (updated when a session ends, on QUIT and on each
    /// final dot), less the readiness probes' sessions; nil before smtp-sink printed any.
    func counters() -> Counters? {
        let (current, probes, earlier) = lock.withLock { (process.flatMap { Self.parseCounters($0.output()) }, self.probes, self.earlier) }
        guard current != nil || earlier.sessions > 0 || earlier.messages > 0 else { return nil }
        let now = current ?? Counters(sessions: 0, quits: 0, messages: 0)
        return Counters(
            sessions: max(0, earlier.sessions + now.sessions - probes), quits: earlier.quits + now.quits,
            messages: earlier.messages + now.messages)
    }

    /// Waits until at least `count` messages reached the final dot, up to `timeout` seconds.
    func waitForMessages(_ count: Int, timeout: Double = 10) async throws -> Bool {
        try await SMTPHarness.eventually(timeout: timeout) { (counters()?.messages ?? 0) >= count }
    }

    /// check_mailbox.py over the dump folder.
    func mailbox(countHeader: String? = nil) throws -> MailboxReport {
        try Mailbox.check(folder: dump, countHeader: countHeader)
    }

    func log() -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".err") }.sorted().compactMap {
            try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
    }

    /// The last `sess=N quit=N mesg=N` record (smtp-sink separates them with carriage returns).
    static func parseCounters(_ output: String) -> Counters? {
        guard let record = output.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).last(where: { $0.hasPrefix("sess=") }) else {
            return nil
        }
        var values: [String: Int] = [:]
        for field in record.split(separator: " ") {
            let pair = field.split(separator: "=", maxSplits: 1)
            if pair.count == 2, let value = Int(pair[1]) { values[String(pair[0])] = value }
        }
        guard let sessions = values["sess"], let quits = values["quit"], let messages = values["mesg"] else { return nil }
        return Counters(sessions: sessions, quits: quits, messages: messages)
    }

    deinit { process?.stop() }
}

// MARK: - check_mailbox.py

/// What scripts/check_mailbox.py found in a folder of messages.
struct MailboxReport: Codable, Sendable {
    struct ParseErrorSample: Codable, Sendable {
        var file: String
        var errors: [String]
    }

    var count: Int
    var uniqueMessageIds: Int
    /// Message-IDs seen more than once (the first 20).
    var duplicateMessageIds: [String]
    /// For From, To, Subject, Date, Message-ID and MIME-Version: how many messages lack it (0 included).
    var missingHeaders: [String: Int]
    /// Messages that are (or contain) a multipart/alternative with non-empty text/plain and text/html parts.
    var multipartAlternative: Int
    /// Messages with parser defects or that raised while parsed or decoded.
    var parseErrors: Int
    var parseErrorSamples: [ParseErrorSample]
    /// The 50 most common subjects.
    var subjects: [String: Int]
    /// The 50 most common To header addresses.
    var to: [String: Int]
    /// The 50 most common envelope recipients (envelopes.jsonl, or smtp-sink's X-Rcpt-Args).
    var rcptTo: [String: Int]
    /// Every value of the `countHeader` header, with how many messages carried it.
    var byXHeader: [String: Int]
    /// Messages without the `countHeader` header.
    var xHeaderMissing: Int
    var listUnsubscribe: Int
    /// Messages with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    var listUnsubscribePost: Int
    /// Spooled messages with a bare LF (not counted for smtp-sink dumps, which are LF-only).
    var bareLF: Int
    /// Messages in smtp-sink's dump format.
    var smtpSinkFormat: Int

    enum CodingKeys: String, CodingKey {
        case count, subjects, to
        case uniqueMessageIds = "unique_message_ids"
        case duplicateMessageIds = "duplicate_message_ids"
        case missingHeaders = "missing_headers"
        case multipartAlternative = "multipart_alternative"
        case parseErrors = "parse_errors"
        case parseErrorSamples = "parse_error_samples"
        case rcptTo = "rcpt_to"
        case byXHeader = "by_x_header"
        case xHeaderMissing = "x_header_missing"
        case listUnsubscribe = "list_unsubscribe"
        case listUnsubscribePost = "list_unsubscribe_post"
        case bareLF = "bare_lf"
        case smtpSinkFormat = "smtp_sink_format"
    }

    /// Values of the counted header seen more than once.
    var duplicateXHeaderValues: [String: Int] { byXHeader.filter { $0.value > 1 } }
}

enum Mailbox {
    static var script: URL { TestEngine.repositoryRoot.appendingPathComponent("scripts/check_mailbox.py") }

    /// Runs check_mailbox.py over `folder` (an SMTPTestServer spool or an smtp-sink dump folder). It parses about
    /// 500–1,000 messages a second per core; `timeout` bounds the run.
    static func check(folder: URL, countHeader: String? = nil, timeout: Double = 300) throws -> MailboxReport {
        var arguments = [script.path, folder.path]
        if let countHeader { arguments += ["--count-header", countHeader] }
        let result = try ChildProcess.runSynchronously(python: arguments, timeout: timeout)
        guard result.status == 0 else {
            throw SMTPHarnessError("check_mailbox.py exited with status \(result.status): \(result.errorOutput.suffix(3000))")
        }
        do {
            return try JSONDecoder().decode(MailboxReport.self, from: result.output)
        } catch {
            throw SMTPHarnessError(
                "check_mailbox.py printed what is not a report (\(error)): \(String(decoding: result.output.prefix(2000), as: UTF8.self))")
        }
    }
}

// MARK: - Certificate

/// A self-signed certificate (RSA 2048, 365 days) for `localhost` and `127.0.0.1`, with its unencrypted key, made by
/// scripts/make_test_cert.sh. `certPath` is also the trust anchor a client should use.
struct TestCertificate: Sendable, Equatable {
    var certPath: String
    var keyPath: String

    /// Makes a new certificate in `folder` (a fresh temporary folder by default), as `cert.pem` and `key.pem`.
    static func make(in folder: URL? = nil) throws -> TestCertificate {
        let folder = folder ?? TestEngine.temporaryDirectory()
        let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/make_test_cert.sh")
        let result = try ChildProcess.runSynchronously(
            executable: URL(fileURLWithPath: "/bin/bash"), arguments: [script.path, folder.path], timeout: 60)
        guard result.status == 0 else { throw SMTPHarnessError("make_test_cert.sh exited with status \(result.status): \(result.errorOutput)") }
        return TestCertificate(
            certPath: folder.appendingPathComponent("cert.pem").path, keyPath: folder.appendingPathComponent("key.pem").path)
    }
}

// MARK: - Plumbing

enum SMTPHarness {
    /// `$HERALD_TEST_PYTHON`, else `python3` from the PATH.
    static var python: String {
        let configured = ProcessInfo.processInfo.environment["HERALD_TEST_PYTHON"] ?? ""
        return configured.isEmpty ? "python3" : configured
    }

    /// `python3 -c` code that execs `argv[1:]` with no signal blocked and SIGPIPE at its default. A child spawned
    /// from a libdispatch worker thread inherits that thread's mask, in which nearly every signal is blocked:
    /// SIGTERM would never reach it. (The Python scripts unblock signals themselves.)
    static let execWithSignalsUnblocked = """
        import os, signal, sys
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.execv(sys.argv[1], sys.argv[1:])
        """

    /// Polls `condition` until it holds or `timeout` seconds pass; returns whether it held.
    static func eventually(timeout: Double, interval: Double = 0.02, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
        return try condition()
    }

    /// A port the kernel considers free on 127.0.0.1 (bound to port 0 and released). Another process may take it
    /// before it is used: callers retry.
    static func freePort() throws -> Int {
        let descriptor = makeSocket()
        guard descriptor >= 0 else { throw SMTPHarnessError("socket(): errno \(errno)") }
        defer { close(descriptor) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 ? getsockname(descriptor, generic, &length) : -1
            }
        }
        guard result == 0 else { throw SMTPHarnessError("bind()/getsockname() on 127.0.0.1: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is accepted (the connection is closed at once).
    static func canConnect(port: Int) -> Bool {
        let descriptor = makeSocket()
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func userName(uid: uid_t) -> String? {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    /// Regular, non-hidden files under `folder`, recursively, sorted by path.
    static func files(in folder: URL) -> [URL] {
        guard
            let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { return [] }
        var files: [URL] = []
        for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files.append(url)
        }
        return files.sorted { $0.path < $1.path }
    }

    private static func makeSocket() -> Int32 {
        #if os(Linux)
            socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            socket(AF_INET, SOCK_STREAM, 0)
        #endif
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// A child process whose stdout and stderr go to files. `stop()` and `deinit` end it.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let stdout: URL
    let stderr: URL

    init(executable: URL, arguments: [String], stdout: URL, stderr: URL) throws {
        self.stdout = stdout
        self.stderr = stderr
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        for file in [stdout, stderr] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let out = try FileHandle(forWritingTo: stdout)
        let err = try FileHandle(forWritingTo: stderr)
        defer {
            // The child has its own copies.
            try? out.close()
            try? err.close()
        }
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    /// `python3 <arguments>` through /usr/bin/env (which execs, so the process is python itself).
    convenience init(python arguments: [String], stdout: URL, stderr: URL) throws {
        try self.init(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: [SMTPHarness.python] + arguments, stdout: stdout, stderr: stderr)
    }

    var isRunning: Bool { process.isRunning }
    var terminationStatus: Int32 { process.isRunning ? -1 : process.terminationStatus }

    func output() -> String { (try? String(contentsOf: stdout, encoding: .utf8)) ?? "" }
    func errorOutput() -> String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }

    /// SIGTERM and up to `grace` seconds to exit, then SIGKILL and up to 5 s more.
    func stop(grace: Double = 5) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        if waitForExit(timeout: grace) { return }
        kill(process.processIdentifier, SIGKILL)
        _ = waitForExit(timeout: 5)
    }

    @discardableResult
    func waitForExit(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        return !process.isRunning
    }

    struct Result: Sendable {
        var status: Int32
        var output: Data
        var errorOutput: String
    }

    /// Runs a command to completion (killed after `timeout` seconds), its output collected through files.
    /// Waits with `Task.sleep`, so a slow command does not hold one of the few cooperative threads.
    static func run(executable: URL, arguments: [String], timeout: Double) async throws -> Result {
        let folder = TestEngine.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let child = try ChildProcess(
            executable: executable, arguments: arguments, stdout: folder.appendingPathComponent("out"),
            stderr: folder.appendingPathComponent("err"))
        guard try await SMTPHarness.eventually(timeout: timeout, interval: 0.01, { !child.isRunning }) else {
            child.stop(grace: 1)
            throw SMTPHarnessError("\(([executable.path] + arguments).joined(separator: " ")) did not finish within \(timeout) s")
        }
        return child.result()
    }

    /// `run` for synchronous callers: blocks the calling thread until the command ends or `timeout` passes.
    static func runSynchronously(executable: URL, arguments: [String], timeout: Double) throws -> Result {
        let folder = TestEngine.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let child = try ChildProcess(
            executable: executable, arguments: arguments, stdout: folder.appendingPathComponent("out"),
            stderr: folder.appendingPathComponent("err"))
        guard child.waitForExit(timeout: timeout) else {
            child.stop(grace: 1)
            throw SMTPHarnessError("\(([executable.path] + arguments).joined(separator: " ")) did not finish within \(timeout) s")
        }
        return child.result()
    }

    static func runSynchronously(python arguments: [String], timeout: Double) throws -> Result {
        try runSynchronously(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: [SMTPHarness.python] + arguments, timeout: timeout)
    }

    private func result() -> Result {
        Result(status: process.terminationStatus, output: (try? Data(contentsOf: stdout)) ?? Data(), errorOutput: errorOutput())
    }

    static func run(python arguments: [String], timeout: Double) async throws -> Result {
        try await run(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: [SMTPHarness.python] + arguments, timeout: timeout)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            _ = waitForExit(timeout: 2)
        }
    }
}
