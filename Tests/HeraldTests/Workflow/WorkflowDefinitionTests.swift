import Foundation
import Herald
import HTTPTypes
import Testing
import Yams

/// Workflows as they are written: in herald.yml and over the API, checked when the type is saved.
@Suite("Workflow definitions", .dropsPostgresSchemas)
struct WorkflowDefinitionTests {
    /// The event type of the issue's example, channels and parameters its workflow uses.
    static let typeJSON = #"""
        "priority": "high", "channels": ["in_app", "email", "sms"],
        "parameters": {"severity": {"type": "string", "required": false}, "title": {"type": "string"}},
        "templates": {
          "in_app": {"en": {"title": "{{title}}", "body": "{{title}}"}},
          "email": {"en": {"subject": "{{title}}", "html": "<p>{{title}}</p>"}},
          "sms": {"en": {"text": "{{title}}"}}
        }
        """#

    @Test("the issue's example workflow loads from herald.yml, with every step kind")
    func exampleFromYAML() throws {
        let yaml = """
            key: ward_escalation
            priority: high
            channels: [in_app, email, sms]
            parameters:
              severity: {type: string, required: false}
            templates:
              in_app: {en: {title: "t", body: "b"}}
              email: {en: {subject: "s", html: "<p>h</p>"}}
              sms: {en: {text: "t"}}
            workflow:
              - send: in_app
              - wait: 15m
                until: read
              - send: email
                if: "subscriber.email != null and payload.severity != 'low'"
              - wait: 1h
                until: read
              - send: sms
                if: "priority == 'critical'"
              - send: [email, sms]
                mode: first_success
              - wait_until: "09:00"
              - digest: {window: 1h}
              - send: in_app
            """
        let type = try YAMLDecoder().decode(EventType.self, from: yaml)
        let workflow = try #require(type.workflow)
        #expect(workflow.steps.map(\.summary) == [
            "send in_app", "wait 15m until read", "send email", "wait 1h until read", "send sms", "send email or sms", "wait until 09:00",
            "digest 1h", "send in_app",
        ])
        #expect(workflow.steps[2].condition?.source == "subscriber.email != null and payload.severity != 'low'")
        #expect(EventTypeValidator(defaultLocale: "en").problems(type).isEmpty, "\(EventTypeValidator(defaultLocale: "en").problems(type))")
        // A wait may also be a number of seconds.
        let seconds = try JSONCoding.decoder.decode(WorkflowStep.self, from: Data(#"{"wait": 900, "until": "seen"}"#.utf8))
        #expect(seconds.summary == "wait 900s until seen")
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var name: String
        var workflow: String
        var field: String
        var retentionDays: Int? = nil
        var testDescription: String { name }
    }

    static let invalid: [Invalid] = [
        Invalid(name: "a channel the type does not have", workflow: #"[{"send": "in_app"}, {"send": "webhook"}]"#, field: "workflow[1].send"),
        Invalid(name: "a channel that does not exist", workflow: #"[{"send": "in_app"}, {"send": "fax"}]"#, field: "workflow[1].send"),
        Invalid(
            name: "a condition on a field the type does not declare",
            workflow: #"[{"send": "in_app"}, {"send": "email", "if": "payload.ward == 'A'"}]"#, field: "workflow[1].if"),
        Invalid(
            name: "a condition that does not parse", workflow: #"[{"send": "in_app", "if": "payload.severity =="}]"#, field: "workflow[0].if"),
        Invalid(
            name: "a condition on a later step", workflow: #"[{"send": "in_app", "if": "steps.1.read"}, {"send": "email"}]"#, field: "workflow[0].if"),
        Invalid(name: "a wait over the retention period", workflow: #"[{"send": "in_app"}, {"wait": "31d"}, {"send": "email"}]"#, field: "workflow[1].wait", retentionDays: 30),
        Invalid(name: "a wait shorter than the server allows", workflow: #"[{"send": "in_app"}, {"wait": "10s"}, {"send": "email"}]"#, field: "workflow[1].wait"),
        Invalid(name: "a duration that is not one", workflow: #"[{"wait": "soon"}, {"send": "email"}]"#, field: "workflow[0].wait"),
        Invalid(name: "a negative number of seconds", workflow: #"[{"send": "in_app"}, {"wait": -5}, {"send": "email"}]"#, field: "workflow[1].wait"),
        Invalid(name: "first_success with one channel", workflow: #"[{"send": ["email"], "mode": "first_success"}]"#, field: "workflow[0].mode"),
        Invalid(name: "two actions in one step", workflow: #"[{"send": "email", "wait": "1h"}]"#, field: "workflow[0]"),
        Invalid(name: "no send at all", workflow: #"[{"wait": "1h"}]"#, field: "workflow"),
        Invalid(name: "a time of day that is not one", workflow: #"[{"wait_until": "25:00"}, {"send": "email"}]"#, field: "workflow[0].wait_until"),
    ]

    @Test("a workflow that cannot be valid is refused with problem+json naming the step", arguments: invalid)
    func refused(_ testCase: Invalid) async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Definitions")
            let retention = testCase.retentionDays.map { #", "retention_days": \#($0)"# } ?? ""
            let reply = try await api.send(
                .put, "/v1/event-types/ward_escalation", auth: tenant.key, raw: #"{\#(Self.typeJSON)\#(retention), "workflow": \#(testCase.workflow)}"#)
            #expect(reply.status.code == 422, "\(reply.text)")
            #expect(reply.headers[.contentType] == "application/problem+json")
            let fields = reply["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
            #expect(fields.contains(testCase.field), "\(reply.text)")
            let stored = try await api.send(.get, "/v1/event-types/ward_escalation", auth: tenant.key)
            #expect(stored.status.code == 404, "nothing was saved")
        }
    }

    @Test("a valid workflow is stored and read back; the preview shows the escalation path and the path when read")
    func storedAndPreviewed() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Preview")
            let workflow = #"""
                [{"send": "in_app"}, {"wait": "15m", "until": "read"},
                 {"send": "email", "if": "payload.severity != 'low'"}, {"send": ["email", "sms"], "mode": "first_success"}]
                """#
            let put = try await api.send(.put, "/v1/event-types/ward_escalation", auth: tenant.key, raw: #"{\#(Self.typeJSON), "workflow": \#(workflow)}"#)
            #expect(put.status.code == 200 || put.status.code == 201, "\(put.text)")
            let stored = try await api.send(.get, "/v1/event-types/ward_escalation", auth: tenant.key)
            #expect(stored["workflow"]?.arrayValue?.count == 4)
            #expect(stored["workflow"]?.arrayValue?[1]["until"] == "read")
            #expect(stored["workflow"]?.arrayValue?[3]["mode"] == "first_success")

            let escalated = try await api.send(
                .post, "/v1/event-types/ward_escalation/workflow/preview", auth: tenant.key,
                raw: #"{"payload": {"title": "Bed 4", "severity": "high"}, "subscriber": {"id": "x", "phone": "+15550001"}}"#)
            #expect(escalated.status.code == 200, "\(escalated.text)")
            let steps = escalated["steps"]?.arrayValue ?? []
            #expect(steps.map { $0["status"]?.stringValue } == ["done", "done", "failed", "done"], "\(escalated.text)")
            #expect(steps[2]["messages"]?.arrayFirst?["reason"] == "no_address", "no email address: the email step plans nothing it can send")
            #expect(steps[3]["messages"]?.arrayValue?.map { $0["channel"]?.stringValue } == ["email", "sms"], "first_success falls to SMS")

            let read = try await api.send(
                .post, "/v1/event-types/ward_escalation/workflow/preview", auth: tenant.key,
                raw: #"{"payload": {"title": "Bed 4"}, "subscriber": {"id": "x", "email": "x@example.com"}, "assume_read": true}"#)
            #expect(read["outcome"] == "read")
            #expect(read["steps"]?.arrayValue?.map { $0["status"]?.stringValue } == ["done", "done", "skipped", "skipped"])

            let draft = try await api.send(
                .post, "/v1/event-types/ward_escalation/workflow/preview", auth: tenant.key,
                raw: #"{"payload": {}, "workflow": [{"send": "in_app", "if": "payload.nope"}]}"#)
            #expect(draft["problems"]?.arrayFirst?["field"] == "workflow[0].if", "a draft is checked before it is previewed: \(draft.text)")
        }
    }

    @Test("a click on an inbox item's link is recorded over HTTP (clicked, read and seen), and only for the token's own subscriber")
    func clickOverHTTP() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let tenant = try await api.createTenant("Clicks")
            for id in ["ana", "ben"] {
                _ = try await api.send(.put, "/v1/subscribers/\(id)", auth: tenant.key, raw: "{}")
            }
            let ana = try #require(try await api.send(.post, "/v1/subscribers/ana/token", auth: tenant.key, raw: "{}")["token"]?.stringValue)
            let ben = try #require(try await api.send(.post, "/v1/subscribers/ben/token", auth: tenant.key, raw: "{}")["token"]?.stringValue)
            try await engine.announce("Click me", to: ["ana"], tenantID: tenant.id)
            #expect(try await engine.eventually { try await api.send(.get, "/v1/inbox", auth: ana)["data"]?.arrayCount == 1 })
            let id = try #require(try await api.send(.get, "/v1/inbox", auth: ana)["data"]?.arrayFirst?["id"]?.stringValue)
            #expect(try await api.send(.post, "/v1/inbox/\(id)/click", auth: ben).status.code == 404, "not another subscriber's")
            let clicked = try await api.send(.post, "/v1/inbox/\(id)/click", auth: ana)
            #expect(clicked.status.code == 200, "\(clicked.text)")
            #expect(clicked["unread"] == 0)
            let item = try #require(try await api.send(.get, "/v1/inbox", auth: ana)["data"]?.arrayFirst)
            #expect(item["clicked_at"]?.stringValue != nil)
            #expect(item["read_at"]?.stringValue != nil)
        }
    }
}
