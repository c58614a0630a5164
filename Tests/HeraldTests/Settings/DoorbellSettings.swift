import Herald

/// A seventh settings family that exists only in the tests: all a new family needs beside its one line in the
/// route list (``SettingsFamilyTests``). A chime, a volume the rules bound, and an API key answers never show.
struct DoorbellSettings: TenantSettingsDocument, Equatable {
    static let key = "doorbell"
    var chime: String?
    var volume: Int?
    var apiKey: String?

    enum CodingKeys: String, CodingKey { case chime, volume, apiKey = "api_key" }

    func problems(in context: TenantSettingsContext) -> [FieldError] {
        volume.map { (1...10).contains($0) } == false ? [FieldError("volume", "must be from 1 to 10")] : []
    }

    var redacted: DoorbellSettings {
        var copy = self
        copy.apiKey = apiKey.map { _ in "********" }
        return copy
    }

    func restoringSecrets(from stored: DoorbellSettings) -> DoorbellSettings {
        var copy = self
        if apiKey == "********" { copy.apiKey = stored.apiKey }
        return copy
    }
}
