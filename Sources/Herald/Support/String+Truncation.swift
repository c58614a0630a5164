extension String {
    /// The text cut to at most `limit` UTF-16 code units, ending in `ellipsis` when anything was cut.
    ///
    /// Chat services count message lengths in JavaScript string units (UTF-16), so a limit counted
    /// this way is never over theirs. Cuts fall between characters, never inside an emoji or an
    /// accented letter.
    public func truncated(toUTF16 limit: Int, ellipsis: String = "…") -> String {
        guard utf16.count > limit else { return self }
        let room = limit - ellipsis.utf16.count
        guard room > 0 else { return String(ellipsis.prefix(max(0, limit))) }
        var kept = 0
        var end = startIndex
        for character in self {
            let width = character.utf16.count
            if kept + width > room { break }
            kept += width
            end = index(after: end)
        }
        return String(self[..<end]) + ellipsis
    }
}
