import Mustache
import Synchronization

extension EmailLayoutFrame {
    /// Frames by shape. A tenant's emails share a few shapes (one per locale of its subscribers, with or without an
    /// unsubscribe link); a server with many tenants starts over once it holds `limit` of them.
    final class Cache: Sendable {
        private let frames = Mutex<[Shape: EmailLayoutFrame]>([:])
        let limit: Int

        init(limit: Int = 1024) {
            self.limit = limit
        }

        /// How many frames it holds.
        var count: Int { frames.withLock(\.count) }

        func frame(for shape: Shape, template: MustacheTemplate) -> EmailLayoutFrame {
            if let frame = frames.withLock({ $0[shape] }) { return frame }
            let frame = EmailLayoutFrame(shape, template: template)
            frames.withLock { frames in
                if frames.count >= limit { frames.removeAll(keepingCapacity: true) }
                frames[shape] = frame
            }
            return frame
        }
    }
}
