import Foundation

/// What an email attachment may be, checked where it enters Herald (a trigger, an event type being saved,
/// a file fetched from a trigger's URL), so nothing accepted fails later at every send: its size (per file
/// and per trigger, `email.max_attachment_bytes` and `email.max_attachments_bytes`), how many (ten), its
/// name (the rules the MIME encoder applies to header text, and no extension that runs code), its type
/// (no executables or scripts) and its first bytes (no program whatever its declared type).
///
/// Every problem names the field it is in (`attachments[1].content_type`), so one answer lists them all.
public struct AttachmentLimits: Sendable, Hashable {
    /// The largest file, in bytes (`email.max_attachment_bytes`).
    public var maxFileBytes: Int
    /// The most all of a trigger's files may hold together, the event type's included
    /// (`email.max_attachments_bytes`).
    public var maxTotalBytes: Int

    public init(maxFileBytes: Int = 10 << 20, maxTotalBytes: Int = 20 << 20) {
        self.maxFileBytes = maxFileBytes
        self.maxTotalBytes = maxTotalBytes
    }

    /// At most this many files per trigger, the event type's included.
    public static let maxFiles = 10
    /// File names are header text: RFC 2231 splits long ones, and 255 bytes is what file systems keep.
    public static let maxFilenameBytes = 255
    public static let maxContentTypeBytes = 255
    public static let fileBytesRule = NumberRule.whole(1...(100 << 20), unit: "bytes")
    public static let totalBytesRule = NumberRule.whole(1...(200 << 20), unit: "bytes")

    /// Media types that run code where they are opened: executables, installers, archives of classes and scripts.
    public static let refusedContentTypes: Set<String> = [
        "application/x-msdownload", "application/x-msdos-program", "application/x-msdos-windows", "application/x-dosexec",
        "application/vnd.microsoft.portable-executable", "application/x-ms-installer", "application/x-msi", "application/x-ms-shortcut",
        "application/x-executable", "application/x-elf", "application/x-mach-binary", "application/x-sharedlib",
        "application/java-archive", "application/x-java-archive", "application/x-jar", "application/java-vm",
        "application/x-sh", "application/x-shellscript", "application/x-csh", "text/x-sh", "text/x-shellscript",
        "application/x-bat", "application/bat", "application/x-powershell",
        "application/javascript", "application/x-javascript", "application/ecmascript", "text/javascript", "text/ecmascript",
        "application/vbscript", "application/x-vbscript", "text/vbscript", "application/hta",
    ]

    /// Extensions a mail client or desktop runs when the file is opened, whatever its declared type.
    public static let refusedExtensions: Set<String> = [
        "exe", "bat", "cmd", "com", "scr", "js", "jse", "mjs", "vbs", "vbe", "jar", "msi", "msp", "ps1", "psm1", "sh", "pif", "wsf",
        "wsh", "hta", "cpl", "lnk", "reg",
    ]

    /// The problems of attachments as a request gives them (`field` is `attachments`, or
    /// `events[3].attachments`): shape, names, declared types, and the size and first bytes of inline
    /// `content`. Files behind a `url` are checked again once fetched (``problem(fetched:)``). `allowsURL`
    /// is false for an event type, whose files are stored with it.
    public func problems(_ attachments: [Attachment], field: String, allowsURL: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        if attachments.count > Self.maxFiles {
            errors.append(FieldError(field, "holds \(attachments.count) files; the limit is \(Self.maxFiles)"))
        }
        var total = 0
        for (index, attachment) in attachments.enumerated() {
            let item = "\(field)[\(index)]"
            if let reason = Self.problem(filename: attachment.filename) { errors.append(FieldError("\(item).filename", reason)) }
            if let type = attachment.contentType, let reason = Self.problem(contentType: type) {
                errors.append(FieldError("\(item).content_type", reason))
            }
            switch (attachment.content, attachment.url) {
            case (.some, .some):
                errors.append(FieldError(item, "give content or url, not both"))
            case (nil, nil):
                errors.append(FieldError("\(item).content", allowsURL ? "is required (or give url)" : "is required"))
            case (.some(let content), nil):
                if attachment.contentType == nil {
                    errors.append(FieldError("\(item).content_type", "is required with content"))
                }
                if let reason = problem(size: content.count) ?? Self.problem(firstBytes: content) {
                    errors.append(FieldError("\(item).content", reason))
                }
                total += content.count
            case (nil, .some(let url)):
                if !allowsURL {
                    errors.append(FieldError("\(item).url", "is not allowed here: an event type's files are stored with it, give content"))
                } else if let reason = Self.problem(url: url) {
                    errors.append(FieldError("\(item).url", reason))
                }
            }
        }
        if total > maxTotalBytes {
            errors.append(FieldError(field, "holds \(total) bytes of files; together they may hold at most \(Self.bytes(maxTotalBytes))"))
        }
        return errors
    }

    /// Why a file of `size` bytes cannot be attached, or nil.
    public func problem(size: Int) -> String? {
        if size == 0 { return "is empty" }
        if size > maxFileBytes { return "is larger than \(Self.bytes(maxFileBytes)), the most one attachment may hold" }
        return nil
    }

    /// Why a file fetched from a trigger's URL, with the type it will be sent as, cannot be attached, or nil.
    public func problem(fetched content: Data, contentType: String) -> String? {
        if let reason = problem(size: content.count) { return "answered with a file that \(reason)" }
        if let reason = Self.problem(contentType: contentType) { return "answered with Content-Type \(contentType), which \(reason)" }
        if let reason = Self.problem(firstBytes: content) { return "answered with a file that \(reason)" }
        return nil
    }

    /// Why `name` cannot be an attachment's file name, or nil: it is header text (no line breaks or control
    /// characters, as ``EmailHeader/problem(in:)`` says), a name and not a path, without direction controls
    /// that could show `exe.pdf` for `fdp.exe`, and without an extension that runs code.
    public static func problem(filename name: String) -> String? {
        if name.trimmingCharacters(in: CharacterSet(charactersIn: " .")).isEmpty { return "must be a file name, not empty or only dots" }
        if name.utf8.count > maxFilenameBytes { return "is longer than \(maxFilenameBytes) bytes" }
        if let reason = EmailHeader.problem(in: name) { return reason }
        if name.contains("/") || name.contains("\\") { return "must be a file name without / or \\" }
        if let scalar = name.unicodeScalars.first(where: isDirectionControl) {
            let code = String(scalar.value, radix: 16, uppercase: true)
            return "contains the direction control U+\(code), which can disguise a file's real extension"
        }
        // Windows drops trailing dots and spaces, so `run.exe. ` opens as `run.exe`.
        var trimmed = Substring(name.lowercased())
        while let last = trimmed.last, last == "." || last == " " { trimmed.removeLast() }
        if let dot = trimmed.lastIndex(of: "."), refusedExtensions.contains(String(trimmed[trimmed.index(after: dot)...])) {
            return "ends in .\(trimmed[trimmed.index(after: dot)...]), a kind of file that runs code and is not sent"
        }
        return nil
    }

    /// Why `text` cannot be an attachment's `Content-Type`, or nil: `type/subtype` of RFC 2045 tokens
    /// (parameters after `;` are allowed, and only `charset` is kept: ``normalized(contentType:)``), and no
    /// type of ``refusedContentTypes``.
    public static func problem(contentType text: String) -> String? {
        if text.utf8.count > maxContentTypeBytes { return "is longer than \(maxContentTypeBytes) bytes" }
        if let reason = EmailHeader.problem(in: text) { return reason }
        guard text.unicodeScalars.allSatisfy(\.isASCII) else { return "must be ASCII, like application/pdf" }
        guard let media = mediaType(text) else { return "must be a media type like application/pdf or text/csv" }
        if refusedContentTypes.contains(media) { return "is a kind of file that runs code and is not sent" }
        return nil
    }

    /// The type an attachment is stored and sent as: `type/subtype` in lowercase, with its `charset`
    /// parameter when it has a valid one. Call after ``problem(contentType:)`` found nothing.
    public static func normalized(contentType text: String) -> String {
        guard let media = mediaType(text) else { return "application/octet-stream" }
        for parameter in text.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "charset" else { continue }
            let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if !value.isEmpty, value.unicodeScalars.allSatisfy(isTokenCharacter) { return "\(media); charset=\(value.lowercased())" }
        }
        return media
    }

    /// Why the start of a file shows a program, whatever its declared type, or nil: a Windows (`MZ`),
    /// ELF or Mach-O executable, or a script with a `#!` line.
    public static func problem(firstBytes content: Data) -> String? {
        let head = Array(content.prefix(4))
        func starts(_ magic: [UInt8]) -> Bool { head.count >= magic.count && Array(head.prefix(magic.count)) == magic }
        if starts([0x4D, 0x5A]) { return "is a Windows program (it starts with MZ), which is not sent" }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return "is an ELF program, which is not sent" }
        if [[0xFE, 0xED, 0xFA, 0xCE], [0xFE, 0xED, 0xFA, 0xCF], [0xCE, 0xFA, 0xED, 0xFE], [0xCF, 0xFA, 0xED, 0xFE], [0xCA, 0xFE, 0xBA, 0xBE]]
            .contains(where: starts)
        {
            return "is a Mach-O program or Java class, which is not sent"
        }
        if starts([0x23, 0x21]) { return "is a script (it starts with #!), which is not sent" }
        return nil
    }

    /// Why `text` cannot be an attachment's URL, or nil: an absolute `http` or `https` URL with a host.
    /// Where it points is the destination policy's business, when it is fetched.
    public static func problem(url text: String) -> String? {
        if text.utf8.count > 2048 { return "is longer than 2048 bytes" }
        return DestinationPolicy.syntaxProblem(text)
    }

    /// `type/subtype` in lowercase, or nil when `text` does not start with one.
    static func mediaType(_ text: String) -> String? {
        let main = text.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingCharacters(in: .whitespaces)
        let parts = main.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(isTokenCharacter) }) else { return nil }
        return main.lowercased()
    }

    /// RFC 2045 `token`: printable ASCII without space and `()<>@,;:\"/[]?=`.
    static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        (0x21...0x7E).contains(scalar.value) && !"()<>@,;:\\\"/[]?=".unicodeScalars.contains(scalar)
    }

    private static func isDirectionControl(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value) || scalar.value == 0x200E
            || scalar.value == 0x200F || scalar.value == 0x061C
    }

    /// `10 MiB`, `512 KiB`, `1500 bytes`: a limit as an operator set it.
    public static func bytes(_ count: Int) -> String {
        if count >= 1 << 20, count % (1 << 20) == 0 { return "\(count >> 20) MiB" }
        if count >= 1 << 10, count % (1 << 10) == 0 { return "\(count >> 10) KiB" }
        return "\(count) bytes"
    }

    /// How much larger than `server.max_body_bytes` a request body may be for its attachments: their
    /// base64 (4/3 of the bytes) with room for a client that escapes `/` or breaks lines (3/2 in all).
    public var bodyAllowance: Int { maxTotalBytes / 2 * 3 + 4096 }
}
