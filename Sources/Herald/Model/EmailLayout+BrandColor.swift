extension EmailLayout {
    /// Whether `color` is a hex colour (`#0b5cad` or `#abc`), the only brand colours the layout writes into its style
    /// attributes: anything else could carry more CSS than a colour.
    public static func isHexColor(_ color: String) -> Bool {
        color.hasPrefix("#") && [4, 7].contains(color.count) && color.dropFirst().allSatisfy(\.isHexDigit)
    }
}
