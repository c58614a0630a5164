import Foundation

extension Dispatcher {
    /// Files composed into the emails of one hand-over to the email channel, at most: the channel builds
    /// every email of what it is given before sending, and each carries its own encoded copy, so five
    /// hundred recipients of a 20 MB file are handed over a few at a time rather than as 13 GB at once.
    /// A batch without files is handed over whole.
    static let emailPartBytes = 128 << 20

    /// Hands rendered emails to the email channel with their events' files (read once per event through
    /// ``AttachmentCache``), in parts that keep the files composed at once under ``emailPartBytes``.
    /// Results come back in the order of `ready`. A digest carries no files; an email whose files cannot be
    /// read is a transient failure, tried again later.
    func deliverEmails(_ ready: [OutgoingMessage], via channel: any DeliveryChannel) async -> [ChannelResult] {
        let carriers = ready.filter { $0.message.digestID == nil }.map(\.event.id)
        let sizes: [String: Int]
        do {
            sizes = carriers.isEmpty ? [:] : try await attachments.sizes(eventIDs: carriers)
        } catch {
            return ready.map { _ in .transientFailure("cannot read the event's attachments: \(error)") }
        }
        guard !sizes.isEmpty else { return await channel.deliver(ready) }
        func size(_ outgoing: OutgoingMessage) -> Int { outgoing.message.digestID == nil ? sizes[outgoing.event.id] ?? 0 : 0 }

        var results: [ChannelResult] = []
        results.reserveCapacity(ready.count)
        var start = 0
        while start < ready.count {
            var end = start
            var bytes = 0
            while end < ready.count, end == start || bytes + size(ready[end]) <= Self.emailPartBytes {
                bytes += size(ready[end])
                end += 1
            }
            var part = Array(ready[start..<end])
            var answers = [ChannelResult?](repeating: nil, count: part.count)
            for index in part.indices where size(part[index]) > 0 {
                do {
                    part[index].attachments = try await attachments.files(eventID: part[index].event.id)
                } catch {
                    answers[index] = .transientFailure("cannot read the event's attachments: \(error)")
                }
            }
            let sendable = part.indices.filter { answers[$0] == nil }
            let sent = await channel.deliver(sendable.map { part[$0] })
            for (position, index) in sendable.enumerated() {
                answers[index] = position < sent.count ? sent[position] : .transientFailure("the channel gave no result for this message")
            }
            results += answers.map { $0 ?? .transientFailure("the channel gave no result for this message") }
            start = end
        }
        return results
    }
}
