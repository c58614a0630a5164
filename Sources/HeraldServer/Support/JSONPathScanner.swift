#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Walks the structure of JSON text, possibly cut short, without building any of it: how many bytes lie
/// inside the values at chosen paths (a trigger's `attachments`), and the path of the value the text
/// ends in. It lets a request body that carries files be read past the ordinary body limit for the files
/// only, and lets one cut off at the limit be answered naming the file that made it too large
/// (`attachments[0].content`) rather than just "body".
///
/// It checks no grammar (the JSON decoder does that once the body is complete): it only tracks where it
/// is. Strings are skipped with `memchr`, so a 30 MB base64 string costs a handful of calls.
struct JSONPathScanner {
    enum Component: Hashable, CustomStringConvertible {
        case key(String)
        case index(Int)

        var description: String {
            switch self {
            case .key(let name): name
            case .index(let index): "[\(index)]"
            }
        }
    }

    struct Result {
        /// Bytes inside values whose path `counts` chose (the whole value, quotes and brackets included).
        var inside: Int
        /// Bytes elsewhere.
        var outside: Int
        /// Where the text ends: the path of the innermost value open at its last byte (empty when it ends
        /// outside the top-level value).
        var pathAtEnd: [Component]
    }

    private enum Container {
        case object(key: String?)
        case array(index: Int)
    }

    /// `a.b[2].c`: a path as Herald names fields in its problems.
    static func fieldPath(_ path: [Component]) -> String {
        var text = ""
        for component in path {
            switch component {
            case .key(let name): text += text.isEmpty ? name : "." + name
            case .index: text += component.description
            }
        }
        return text
    }

    /// Scans `bytes`; `counts` says, for the path of each value met, whether its bytes count as inside.
    static func scan(_ bytes: UnsafeRawBufferPointer, counts: ([Component]) -> Bool) -> Result {
        var stack: [Container] = []
        var awaitingKey = false
        var inside = 0
        var open: (start: Int, depth: Int)?
        let count = bytes.count

        func path() -> [Component] {
            stack.map { container in
                switch container {
                case .object(let key): .key(key ?? "")
                case .array(let index): .index(index)
                }
            }
        }
        func begin(_ offset: Int) {
            if open == nil, counts(path()) { open = (offset, stack.count) }
        }
        func end(_ offset: Int) {
            if let current = open, current.depth == stack.count {
                inside += offset - current.start
                open = nil
            }
        }
        /// The index just past the closing quote of the string opening at `start`, or nil when the text ends first.
        func stringEnd(_ start: Int) -> Int? {
            guard let base = bytes.baseAddress else { return nil }
            var position = start + 1
            while position < count {
                guard let found = memchr(base + position, 0x22, count - position) else { return nil }
                let quote = base.distance(to: UnsafeRawPointer(found))
                var backslashes = 0
                while quote - backslashes - 1 > start, bytes[quote - backslashes - 1] == 0x5C { backslashes += 1 }
                if backslashes % 2 == 0 { return quote + 1 }
                position = quote + 1
            }
            return nil
        }

        var offset = 0
        scanning: while offset < count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D, 0x3A:
                offset += 1
            case 0x7B, 0x5B:
                begin(offset)
                stack.append(bytes[offset] == 0x7B ? .object(key: nil) : .array(index: 0))
                awaitingKey = bytes[offset] == 0x7B
                offset += 1
            case 0x7D, 0x5D:
                if !stack.isEmpty { stack.removeLast() }
                awaitingKey = false
                offset += 1
                end(offset)
            case 0x2C:
                switch stack.last {
                case .array(let index): stack[stack.count - 1] = .array(index: index + 1)
                case .object:
                    stack[stack.count - 1] = .object(key: nil)
                    awaitingKey = true
                case nil: break
                }
                offset += 1
            case 0x22:
                let isKey: Bool
                if case .object = stack.last, awaitingKey { isKey = true } else { isKey = false }
                if !isKey { begin(offset) }
                guard let after = stringEnd(offset) else {
                    if isKey { stack[stack.count - 1] = .object(key: nil) }
                    break scanning
                }
                if isKey {
                    stack[stack.count - 1] = .object(key: String(decoding: bytes[(offset + 1)..<(after - 1)], as: UTF8.self))
                    awaitingKey = false
                } else {
                    end(after)
                }
                offset = after
            default:
                // A number or a literal: runs to the next structural byte or whitespace.
                begin(offset)
                var after = offset + 1
                while after < count, !"{}[],:\" \t\r\n".utf8.contains(bytes[after]) { after += 1 }
                offset = after
                if after < count { end(after) }
            }
        }
        var pathAtEnd = path()
        if offset >= count, let last = pathAtEnd.last, case .key(let name) = last, name.isEmpty { pathAtEnd.removeLast() }
        if let current = open { inside += count - current.start }
        return Result(inside: inside, outside: count - inside, pathAtEnd: pathAtEnd)
    }
}
