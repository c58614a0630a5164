import Foundation

/// Subscribers' push devices, once for both stores.
extension SQLDatabase {
    private static var deviceColumns: String {
        "d.id, s.id, d.platform, d.address, d.p256dh, d.auth, d.app_id, d.environment, d.locale, "
            + "CASE WHEN d.active THEN 1 ELSE 0 END, d.deactivated_reason, d.last_seen_at, d.created_at"
    }

    private static func device(_ row: [SQLValue]) -> PushDevice? {
        guard let id = row[0].text, let subscriberID = row[1].text, let platform = row[2].text.flatMap(PushDevice.Platform.init(rawValue:)),
            let address = row[3].text
        else { return nil }
        let subscription =
            platform == .webpush ? WebPushSubscription(endpoint: address, p256dh: row[4].text ?? "", auth: row[5].text ?? "") : nil
        return PushDevice(
            id: id, subscriberID: subscriberID, platform: platform, token: platform == .webpush ? nil : address, subscription: subscription,
            appID: row[6].text, environment: row[7].text.flatMap(APNsEnvironment.init(rawValue:)), locale: row[8].text,
            active: row[9].integer == 1, deactivatedReason: row[10].text,
            lastSeenAt: row[11].date ?? Date(timeIntervalSince1970: 0), createdAt: row[12].date ?? Date(timeIntervalSince1970: 0))
    }

    public func registerPushDevice(tenantID: String, subscriberID: String, _ device: NewPushDevice, now: Date) async throws -> PushDevice? {
        let address = device.token ?? device.subscription?.endpoint ?? ""
        let rows = try await writeRows(
            """
            INSERT INTO push_devices(id, tenant_id, subscriber_pk, platform, address, p256dh, auth, app_id, environment, locale, active,
                                     last_seen_at, created_at)
            SELECT \(Identifier.make("dev", at: now)), \(tenantID), s.pk, \(device.platform.rawValue), \(address),
                   \(SQLValue(device.subscription?.p256dh ?? "")), \(SQLValue(device.subscription?.auth ?? "")),
                   \(SQLValue(device.appID ?? "")), \(SQLValue(device.environment?.rawValue ?? "")), \(SQLValue(device.locale ?? "")),
                   \(sql: dialect.schema("{true}")), \(now), \(now)
            FROM subscribers s WHERE s.tenant_id = \(tenantID) AND s.id = \(subscriberID)
            ON CONFLICT (tenant_id, platform, address) DO UPDATE SET subscriber_pk = excluded.subscriber_pk, p256dh = excluded.p256dh,
                auth = excluded.auth, app_id = excluded.app_id, environment = excluded.environment, locale = excluded.locale,
                active = excluded.active, deactivated_reason = NULL, deactivated_at = NULL, last_seen_at = excluded.last_seen_at
            RETURNING id
            """)
        guard let id = rows.first?[0].text else { return nil }
        return try await readRows(
            "SELECT \(sql: Self.deviceColumns) FROM push_devices d JOIN subscribers s ON s.pk = d.subscriber_pk WHERE d.id = \(id)"
        ).first.flatMap(Self.device).map(Self.withoutBlanks)
    }

    /// Optional columns the registration wrote as '' (PostgreSQL cannot type a NULL in a SELECT list) read back as nil.
    private static func withoutBlanks(_ device: PushDevice) -> PushDevice {
        var device = device
        if device.appID == "" { device.appID = nil }
        if device.locale == "" { device.locale = nil }
        return device
    }

    public func pushDevices(tenantID: String, subscriberID: String) async throws -> [PushDevice] {
        try await readRows(
            """
            SELECT \(sql: Self.deviceColumns) FROM push_devices d JOIN subscribers s ON s.pk = d.subscriber_pk
            WHERE s.tenant_id = \(tenantID) AND s.id = \(subscriberID) ORDER BY d.active DESC, d.pk
            """
        ).compactMap(Self.device).map(Self.withoutBlanks)
    }

    public func deletePushDevice(tenantID: String, subscriberID: String, deviceID: String) async throws -> Bool {
        try await !writeRows(
            """
            DELETE FROM push_devices WHERE id = \(deviceID) AND tenant_id = \(tenantID)
            AND subscriber_pk = (SELECT pk FROM subscribers WHERE tenant_id = \(tenantID) AND id = \(subscriberID)) RETURNING id
            """
        ).isEmpty
    }

    public func pushDevices(tenantID: String, subscriberIDs: [String], retiredSince: Date) async throws -> [String: [PushDevice]] {
        var found: [String: [PushDevice]] = [:]
        for batch in SQLQuery.batches(Array(Set(subscriberIDs)).map { [SQLValue($0)] }, in: dialect) {
            let rows = try await readRows(
                """
                SELECT \(sql: Self.deviceColumns) FROM push_devices d JOIN subscribers s ON s.pk = d.subscriber_pk
                WHERE s.tenant_id = \(tenantID) AND s.id IN (SELECT column1 FROM (VALUES \(rows: batch)) AS v WHERE true)
                AND (d.active = \(sql: dialect.schema("{true}")) OR d.deactivated_at >= \(retiredSince)) ORDER BY d.pk
                """)
            for device in rows.compactMap(Self.device).map(Self.withoutBlanks) { found[device.subscriberID, default: []].append(device) }
        }
        return found
    }

    public func deactivatePushDevices(_ reasons: [String: String], now: Date) async throws {
        guard !reasons.isEmpty else { return }
        try await writeAll(
            reasons.sorted { $0.key < $1.key }.map { id, reason in
                """
                UPDATE push_devices SET active = \(sql: dialect.schema("{false}")), deactivated_reason = \(reason), deactivated_at = \(now)
                WHERE id = \(id)
                """
            })
    }
}
