import Foundation
import Testing

@testable import Herald

/// Attachments in the MIME encoder and the rules they pass at intake: the structure (`multipart/mixed`
/// around the bodies), the part headers with RFC 2231 names, 76-column base64, and every message read
/// back by Python's `email` package (scripts/extract_attachment.py), as a mail client would.
@Suite("Attachments: MIME structure and intake rules")
struct MIMEAttachmentTests {
    static let from = try! EmailAddress("notices@herald.test", name: "Maple Court")
    static let to = try! EmailAddress("ana@example.com", name: "Ana")

    /// Bytes that look like a PDF and cover every byte value, so no encoding step can hide a loss.
    static func pdf(_ size: Int, seed: UInt64 = 1) -> Data {
        var state = seed
        var bytes = Array("%PDF-1.7\n".utf8)
        while bytes.count < size {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        return Data(bytes.prefix(size))
    }

    static func message(html: String? = "<p>Your invoice is attached.</p>", text: String? = nil, attachments: [EmailAttachment]) -> EmailMessage {
        EmailMessage(
            from: from, to: [to], subject: "Invoice 42", html: html, text: text, messageID: "msg_1.ev_1@herald.test",
            date: Date(timeIntervalSince1970: 1_800_000_000), attachments: attachments)
    }

    /// What scripts/extract_attachment.py makes of a message: its structure, defects, bodies, and each
    /// attachment's name, type and decoded bytes.
    struct Parsed {
        var structure: String
        var defects: [String]
        var text: String?
        var html: String?
        var files: [(filename: String?, contentType: String, bytes: Data)]
    }

    static func parse(_ bytes: [UInt8]) async throws -> Parsed {
        let folder = TestEngine.temporaryDirectory()
        let file = folder.appendingPathComponent("message.eml")
        try Data(bytes).write(to: file)
        let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/extract_attachment.py").path
        let run = try await ChildProcess.run(python: [script, file.path, folder.appendingPathComponent("out").path], timeout: 60)
        #expect(run.status == 0, "\(run.errorOutput)")
        let json = try JSONValue.parse(String(decoding: run.output, as: UTF8.self))
        var files: [(String?, String, Data)] = []
        if case .array(let items)? = json["attachments"] {
            for item in items {
                let path = try #require(item["file"]?.stringValue)
                files.append(
                    (item["filename"]?.stringValue, item["content_type"]?.stringValue ?? "", try Data(contentsOf: URL(fileURLWithPath: path))))
            }
        }
        var defects: [String] = []
        if case .array(let items)? = json["defects"] { defects = items.compactMap(\.stringValue) }
        return Parsed(
            structure: json["structure"]?.stringValue ?? "", defects: defects, text: json["text"]?.stringValue, html: json["html"]?.stringValue,
            files: files)
    }

    @Test("with attachments, multipart/mixed holds the alternative bodies then one base64 part per file")
    func mixedAroundAlternative() async throws {
        let invoice = Self.pdf(100_000)
        let csv = Data("unit;amount\n4B;1200\n".utf8)
        let message = Self.message(attachments: [
            EmailAttachment(filename: "invoice-42.pdf", contentType: "application/pdf", content: invoice),
            EmailAttachment(filename: "lines.csv", contentType: "text/csv; charset=utf-8", content: csv),
        ])
        let bytes = try MIMEEncoder.encode(message, boundary: "=_fixed")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("Content-Type: multipart/mixed; boundary=\"=_fixedm\"\r\n"))
        #expect(text.contains("\r\n\r\n--=_fixedm\r\nContent-Type: multipart/alternative;"))
        #expect(text.contains("boundary=\"=_fixeda\""))
        #expect(
            text.contains(
                "--=_fixedm\r\nContent-Type: application/pdf;\r\n name=\"invoice-42.pdf\"\r\nContent-Disposition: attachment;\r\n"
                    + " filename=\"invoice-42.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjcK"))
        #expect(text.contains("Content-Type: text/csv; charset=utf-8;\r\n name=\"lines.csv\"\r\n"))
        #expect(text.hasSuffix("\r\n--=_fixedm--\r\n"))
        // Every line is CRLF-terminated and short; base64 lines are exactly 76 but the last of each file.
        let lines = text.components(separatedBy: "\r\n")
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(lines.allSatisfy { $0.utf8.count <= 78 }, "\(lines.filter { $0.utf8.count > 78 }.prefix(2))")
        let encoded = invoice.base64EncodedString()
        let firstLine = String(encoded.prefix(76))
        let index = try #require(lines.firstIndex(of: firstLine))
        #expect(lines[index..<(index + encoded.count / 76)].allSatisfy { $0.utf8.count == 76 })

        let parsed = try await Self.parse(bytes)
        #expect(parsed.structure == "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf,text/csv)")
        #expect(parsed.defects == [])
        #expect(parsed.html?.contains("Your invoice is attached.") == true)
        #expect(parsed.files.map(\.filename) == ["invoice-42.pdf", "lines.csv"])
        #expect(parsed.files.map(\.contentType) == ["application/pdf", "text/csv"])
        #expect(parsed.files.first?.bytes == invoice, "the PDF arrives byte for byte")
        #expect(parsed.files.last?.bytes == csv)
    }

    @Test("a text-only email with a file is multipart/mixed of the text and the file, the text unchanged")
    func textOnly() async throws {
        let file = EmailAttachment(filename: "note.txt", contentType: "text/plain", content: Data("ligne 1\r\nligne 2\r\n".utf8))
        let bytes = try MIMEEncoder.encode(Self.message(html: nil, text: "Bonjour Ana,\nvoici la note.", attachments: [file]))
        let parsed = try await Self.parse(bytes)
        #expect(parsed.structure == "multipart/mixed(text/plain,text/plain)")
        #expect(parsed.defects == [])
        #expect(parsed.text?.replacingOccurrences(of: "\r\n", with: "\n") == "Bonjour Ana,\nvoici la note.")
        #expect(parsed.files.first?.bytes == file.content)
        #expect(parsed.files.first?.filename == "note.txt")
    }

    @Test("names that are not short plain ASCII are written in RFC 2231 form, cut into pieces, and read back whole")
    func rfc2231Names() async throws {
        let names = [
            "Résumé – février 2026.pdf", "наряд-заказ.pdf", "請求書.pdf", "quote \"final\" \\ v2.pdf",
            String(repeating: "very-long-file-name-", count: 10) + ".pdf", "emoji 🧾 receipt.pdf", "tab\there.pdf",
        ]
        let files = names.enumerated().map { EmailAttachment(filename: $1, contentType: "application/pdf", content: Self.pdf(500, seed: UInt64($0))) }
        let bytes = try MIMEEncoder.encode(Self.message(attachments: files))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "a message with UTF-8 names is still 7-bit")
        #expect(text.contains(" filename*0*=utf-8''R%C3%A9sum%C3%A9%20%E2%80%93%20f%C3%A9vrier%20"))
        #expect(text.contains(" filename*=utf-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf"), "a short name in one piece")
        #expect(text.contains(" filename*1*="), "the long name is cut into pieces")
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        let parsed = try await Self.parse(bytes)
        #expect(parsed.defects == [])
        #expect(parsed.files.map(\.filename) == names)
        #expect(parsed.files.map(\.bytes) == files.map(\.content))
    }

    @Test("parameters: a quoted-string when short plain ASCII, else utf-8'' percent-escapes in pieces that never split an escape")
    func parameters() {
        #expect(MIMEEncoder.parameter("filename", "a.pdf") == [" filename=\"a.pdf\""])
        #expect(MIMEEncoder.parameter("filename", "say \"hi\".txt") == [" filename=\"say \\\"hi\\\".txt\""])
        #expect(MIMEEncoder.parameter("filename", "é.pdf") == [" filename*=utf-8''%C3%A9.pdf"])
        let long = MIMEEncoder.parameter("name", String(repeating: "é", count: 40))
        #expect(long.count > 1)
        #expect(long.first?.hasPrefix(" name*0*=utf-8''%C3%A9") == true)
        #expect(long.dropLast().allSatisfy { $0.hasSuffix(";") } && long.last?.hasSuffix(";") == false)
        for (index, line) in long.enumerated() {
            #expect(line.hasPrefix(" name*\(index)*="))
            let value = String(line.split(separator: "=", maxSplits: 1)[1]).replacingOccurrences(of: ";", with: "")
            let escapes = value.replacingOccurrences(of: "utf-8''", with: "").split(separator: "%", omittingEmptySubsequences: false).dropFirst()
            #expect(escapes.allSatisfy { $0.count == 2 }, "\(line)")
        }
    }

    @Test("without attachments the message is exactly as before: multipart/alternative with the given boundary")
    func noAttachmentsUnchanged() throws {
        let text = String(decoding: try MIMEEncoder.encode(Self.message(attachments: []), boundary: "=_fixed"), as: UTF8.self)
        #expect(text.contains("boundary=\"=_fixed\""))
        #expect(!text.contains("multipart/mixed"))
        #expect(text.hasSuffix("--=_fixed--\r\n"))
    }

    @Test(
        "a name or type that could break a header fails the message, naming the header",
        arguments: [
            EmailAttachment(filename: "a\r\nBcc: x@evil.example", contentType: "application/pdf", content: Data([1])),
            EmailAttachment(filename: "a.pdf", contentType: "application/pdf\r\nBcc: x@evil.example", content: Data([1])),
            EmailAttachment(filename: "nul\u{0}.pdf", contentType: "application/pdf", content: Data([1])),
        ])
    func unsafeHeaders(_ file: EmailAttachment) {
        #expect(throws: MIMEError.self) { try MIMEEncoder.encode(Self.message(attachments: [file])) }
    }

    // MARK: Intake rules

    @Test(
        "file names that run code, disguise themselves or break headers are refused",
        arguments: [
            "setup.exe", "Invoice.PDF.EXE", "run.exe. ", "run.bat", "x.cmd", "x.com", "x.scr", "app.js", "x.vbs", "lib.jar", "pkg.msi", "x.ps1",
            "install.sh", "invoice\u{202E}fdp.exe", "a/b.pdf", "..\\evil.pdf", "line\nbreak.pdf", "bell\u{7}.pdf", "", "  ", "...",
            String(repeating: "x", count: 256) + ".pdf",
        ])
    func refusedNames(_ name: String) {
        #expect(AttachmentLimits.problem(filename: name) != nil)
    }

    @Test(
        "ordinary names pass",
        arguments: ["invoice-42.pdf", "Résumé.pdf", "請求書.pdf", "photo.JPG", "archive.tar.gz", "no-extension", "js-notes.txt"])
    func acceptedNames(_ name: String) {
        #expect(AttachmentLimits.problem(filename: name) == nil)
    }

    @Test(
        "executable and script types are refused, and types that are not media types",
        arguments: [
            "application/x-msdownload", "application/x-msdos-program", "application/x-sh", "application/javascript", "text/javascript; charset=utf-8",
            "APPLICATION/JAVA-ARCHIVE", "application/x-executable", "pdf", "application/", "/pdf", "application/pdf\r\nX: y", "application/p df",
            "text/plain; charset=\u{e9}",
        ])
    func refusedTypes(_ type: String) {
        #expect(AttachmentLimits.problem(contentType: type) != nil)
    }

    @Test("types are stored as type/subtype in lowercase, with a valid charset kept")
    func normalizedTypes() {
        #expect(AttachmentLimits.problem(contentType: "Text/CSV; Charset=UTF-8; name=x") == nil)
        #expect(AttachmentLimits.normalized(contentType: "Text/CSV; Charset=UTF-8; name=x") == "text/csv; charset=utf-8")
        #expect(AttachmentLimits.normalized(contentType: "application/pdf") == "application/pdf")
        #expect(AttachmentLimits.normalized(contentType: "text/plain; charset=\"ISO-8859-1\"") == "text/plain; charset=iso-8859-1")
    }

    @Test("programs are recognised by their first bytes, whatever their declared type")
    func firstBytes() {
        #expect(AttachmentLimits.problem(firstBytes: Data("MZ\u{90}\u{0}".utf8)) != nil)
        #expect(AttachmentLimits.problem(firstBytes: Data([0x7F, 0x45, 0x4C, 0x46, 2])) != nil)
        #expect(AttachmentLimits.problem(firstBytes: Data("#!/bin/sh\nrm -rf /".utf8)) != nil)
        #expect(AttachmentLimits.problem(firstBytes: Self.pdf(100)) == nil)
        #expect(AttachmentLimits.problem(firstBytes: Data([0x4D])) == nil)
    }

    @Test("sizes, counts and shapes: each problem names its field")
    func limits() {
        let limits = AttachmentLimits(maxFileBytes: 1000, maxTotalBytes: 1500)
        let files = (0..<3).map { Attachment(filename: "f\($0).pdf", contentType: "application/pdf", content: Self.pdf(800)) }
        #expect(limits.problems(files, field: "attachments", allowsURL: true).map(\.field) == ["attachments"])
        var big = files[0]
        big.content = Self.pdf(1001)
        #expect(limits.problems([big], field: "attachments", allowsURL: true).map(\.field) == ["attachments[0].content"])
        let eleven = (0..<11).map { Attachment(filename: "f\($0).pdf", contentType: "application/pdf", content: Data("%PDF".utf8)) }
        #expect(limits.problems(eleven, field: "events[2].attachments", allowsURL: true).map(\.field) == ["events[2].attachments"])
        var both = files[0]
        both.url = "https://files.example.com/a.pdf"
        #expect(limits.problems([both], field: "attachments", allowsURL: true).map(\.field) == ["attachments[0]"])
        let untyped = Attachment(filename: "a.pdf", contentType: nil, content: Data("%PDF".utf8))
        #expect(limits.problems([untyped], field: "attachments", allowsURL: true).map(\.field) == ["attachments[0].content_type"])
        let linked = Attachment(filename: "a.pdf", url: "https://files.example.com/a.pdf")
        #expect(limits.problems([linked], field: "attachments", allowsURL: true) == [])
        #expect(limits.problems([linked], field: "attachments", allowsURL: false).map(\.field) == ["attachments[0].url"])
        let ftp = Attachment(filename: "a.pdf", url: "ftp://files.example.com/a.pdf")
        #expect(limits.problems([ftp], field: "attachments", allowsURL: true).map(\.field) == ["attachments[0].url"])
        #expect(
            limits.problems([Attachment(filename: "a.pdf", contentType: "application/pdf", content: Data())], field: "attachments", allowsURL: true)
                .map(\.field) == ["attachments[0].content"])
    }

    @Test("content is standard base64 with padding; line breaks are skipped, anything else outside the alphabet is refused")
    func base64() throws {
        #expect(Attachment.decodeBase64("JVBERi0x\r\nLjcK") == Data("%PDF-1.7\n".utf8))
        #expect(Attachment.decodeBase64("JVBERi0xLjcK") == Data("%PDF-1.7\n".utf8))
        #expect(Attachment.decodeBase64("JVBERi0xLjcK!") == nil)
        #expect(Attachment.decodeBase64("JVBERi0xLjc") == nil)
        #expect(Attachment.decodeBase64("JVBE_i0xLjcK") == nil)
        let decoded = try JSONCoding.requestDecoder.decode(
            Trigger.self,
            from: Data(#"{"type": "t", "attachments": [{"filename": "a.pdf", "content_type": "application/pdf", "content": "JVBERg=="}]}"#.utf8))
        #expect(decoded.attachments.first?.content == Data("%PDF".utf8))
        #expect(throws: DecodingError.self) {
            try JSONCoding.requestDecoder.decode(
                Trigger.self,
                from: Data(#"{"type": "t", "attachments": [{"filename": "a.pdf", "content_type": "application/pdf", "content": "%%%"}]}"#.utf8))
        }
    }
}
