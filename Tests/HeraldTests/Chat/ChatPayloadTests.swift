import Foundation
import Herald
import Testing

/// The chat services' message formats and answers, without I/O.
@Suite("Chat payloads")
struct ChatPayloadTests {
    @Test func slackEscapesTextAndBuildsAHeaderAndASection() {
        let body = SlackPayload.body(for: ChatMessage(title: "Gate <north>", text: "Ana & Ben at <!channel> *now* > 5 min"))
        #expect(
            body == [
                "text": "Gate &lt;north&gt;: Ana &amp; Ben at &lt;!channel&gt; *now* &gt; 5 min",
                "blocks": [
                    ["type": "header", "text": ["type": "plain_text", "text": "Gate <north>", "emoji": true]],
                    ["type": "section", "text": ["type": "mrkdwn", "text": "Ana &amp; Ben at &lt;!channel&gt; *now* &gt; 5 min"]],
                ],
            ])
        // The fallback text is escaped too (Slack parses it as mrkdwn); the plain_text header is not.
        #expect(!SlackPayload.body(for: ChatMessage(text: "<@U123>"))["text"]!.stringValue!.contains("<"))
    }

    @Test func slackWithoutATitleHasOnlySections() {
        let body = SlackPayload.body(for: ChatMessage(title: "  ", text: "hello"))
        #expect(body == ["text": "hello", "blocks": [["type": "section", "text": ["type": "mrkdwn", "text": "hello"]]]])
    }

    @Test func slackSplitsLongTextIntoSectionsAtLineBreaksAndNeverInsideAnEntity() throws {
        // 40 lines of 99 characters and a newline: 4,000 characters, so two sections split at a line break.
        let line = String(repeating: "x", count: 98) + "&"
        let text = Array(repeating: line, count: 40).joined(separator: "\n")
        let blocks = try #require(SlackPayload.body(for: ChatMessage(text: text))["blocks"])
        guard case .array(let sections) = blocks else { Issue.record("no blocks"); return }
        let texts = sections.compactMap { $0["text"]?["text"]?.stringValue }
        #expect(texts.count == 2)
        #expect(texts.allSatisfy { $0.utf16.count <= SlackPayload.sectionLimit })
        #expect(texts.allSatisfy { $0.hasSuffix("&amp;") && !$0.hasPrefix("\n") }, "each section ends a line, with its entity whole")
        #expect(texts.joined(separator: "\n") == SlackPayload.escaped(text), "nothing is lost or repeated")

        // One long word full of entities: cut anywhere, but never inside `&amp;`.
        let word = String(repeating: "a&", count: 2000)
        let pieces = try #require(SlackPayload.body(for: ChatMessage(text: word))["blocks"])
        guard case .array(let wordSections) = pieces else { return }
        let wordTexts = wordSections.compactMap { $0["text"]?["text"]?.stringValue }
        #expect(wordTexts.joined() == SlackPayload.escaped(word))
        for piece in wordTexts {
            #expect(piece.utf16.count <= 3000)
            #expect(piece.hasSuffix("&amp;") || piece.hasSuffix("a"), "a piece ends between characters, not inside an entity")
        }
    }

    @Test func slackCapsAMessageAtFiftyBlocksWithAnEllipsis() throws {
        let text = String(repeating: "word ", count: 40_000)  // 200,000 characters
        let body = SlackPayload.body(for: ChatMessage(title: "Huge", text: text))
        guard case .array(let blocks)? = body["blocks"] else { Issue.record("no blocks"); return }
        #expect(blocks.count == 50)
        #expect(blocks.last?["text"]?["text"]?.stringValue?.hasSuffix("…") == true)
        #expect(blocks.dropFirst().allSatisfy { ($0["text"]?["text"]?.stringValue?.utf16.count ?? 0) <= 3000 })
        #expect((body["text"]?.stringValue?.utf16.count ?? 0) <= SlackPayload.fallbackLimit)
        let longTitle = SlackPayload.body(for: ChatMessage(title: String(repeating: "T", count: 400), text: "x"))
        guard case .array(let titled)? = longTitle["blocks"] else { return }
        #expect(titled[0]["text"]?["text"]?.stringValue == String(repeating: "T", count: 149) + "…")
    }

    @Test func teamsSendsAnAdaptiveCardAttachment() {
        let body = TeamsPayload.body(for: ChatMessage(title: "Gate", text: "Ana is at the **north** gate"))
        #expect(
            body == [
                "type": "message",
                "attachments": [
                    [
                        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil,
                        "content": [
                            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
                            "body": [
                                ["type": "TextBlock", "text": "Gate", "weight": "Bolder", "size": "Medium", "wrap": true],
                                ["type": "TextBlock", "text": "Ana is at the **north** gate", "wrap": true],
                            ],
                        ],
                    ]
                ],
            ])
        let untitled = TeamsPayload.body(for: ChatMessage(text: "x"))
        #expect(untitled["attachments"].map { "\($0)" }?.contains("Bolder") == false)
    }

    @Test func discordUsesContentOrAnEmbedAndNeverPingsAnyone() {
        #expect(
            DiscordPayload.body(for: ChatMessage(text: "@everyone the gate is open <@&123>"))
                == ["content": "@everyone the gate is open <@&123>", "allowed_mentions": ["parse": []]])
        #expect(
            DiscordPayload.body(for: ChatMessage(title: "Gate", text: "open"))
                == ["embeds": [["title": "Gate", "description": "open"]], "allowed_mentions": ["parse": []]])
        let long = DiscordPayload.body(for: ChatMessage(text: String(repeating: "é", count: 2500)))
        #expect(long["content"]?.stringValue == String(repeating: "é", count: 1999) + "…")
        // Emoji are two UTF-16 units each, as Discord counts them; none is cut in half.
        let emoji = DiscordPayload.body(for: ChatMessage(text: String(repeating: "🚪", count: 1500)))["content"]?.stringValue ?? ""
        #expect(emoji.utf16.count <= 2000 && emoji.hasSuffix("…") && emoji.dropLast().allSatisfy { $0 == "🚪" })
    }

    @Test(arguments: [
        ("https://hooks.slack.com/services/T0/B0/x", ChatService.slack),
        ("https://discord.com/api/webhooks/1/x", .discord),
        ("https://discordapp.com/api/webhooks/1/x", .discord),
        ("https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke", .teams),
        ("https://default1234.56.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/x", .teams),
        ("https://contoso.webhook.office.com/webhookb2/x", .teams),
    ])
    func servicesAreInferredFromTheHost(url: String, service: ChatService) {
        #expect(ChatService.inferred(from: URL(string: url)!) == service)
    }

    @Test func unknownHostsAreNotGuessed() {
        #expect(ChatService.inferred(from: URL(string: "https://chat.example.com/hooks/x")!) == nil)
        #expect(ChatService.inferred(from: URL(string: "https://notslack.com/services/x")!) == nil)
        #expect(ChatService.inferred(from: URL(string: "https://hooks.slack.com.evil.example/x")!) == nil)
    }

    static func answer(_ status: Int, _ body: String = "", headers: [(String, String)] = []) -> OutboundHTTPAnswer {
        OutboundHTTPAnswer(status: status, headers: headers, body: body)
    }

    @Test func answersMapToWhoseFaultItIs() {
        #expect(ChatService.slack.outcome(for: Self.answer(200, "ok")) == .accepted(detail: "HTTP 200: ok"))
        #expect(ChatService.teams.outcome(for: Self.answer(202)) == .accepted(detail: "HTTP 202"))
        #expect(ChatService.discord.outcome(for: Self.answer(204)) == .accepted(detail: "HTTP 204"))
        #expect(
            ChatService.slack.outcome(for: Self.answer(404, "no_service")) == .providerRejected("the webhook no longer exists (HTTP 404: no_service)")
        )
        #expect(ChatService.slack.outcome(for: Self.answer(410, "channel_is_archived")).isProviderRejected)
        #expect(ChatService.slack.outcome(for: Self.answer(403, "action_prohibited")).isProviderRejected)
        #expect(ChatService.teams.outcome(for: Self.answer(401)).isProviderRejected)
        #expect(
            ChatService.slack.outcome(for: Self.answer(400, "invalid_payload"))
                == .rejected("the service refused the message (HTTP 400: invalid_payload)"))
        #expect(ChatService.slack.outcome(for: Self.answer(500, "rollup_error")) == .unavailable("HTTP 500: rollup_error"))
        #expect(
            ChatService.slack.outcome(for: Self.answer(429, "rate_limited", headers: [("Retry-After", "30")]))
                == .unavailable("rate limited, retry after 30 s (HTTP 429: rate_limited)"))
        let discord429 = Self.answer(
            429, #"{"message": "You are being rate limited.", "retry_after": 0.64, "global": false}"#, headers: [("Retry-After", "1")])
        #expect(DiscordPayload.retryAfter(in: discord429) == 0.64, "Discord's own fractional retry_after wins over the rounded header")
        guard case .unavailable(let reason) = ChatService.discord.outcome(for: discord429) else { Issue.record("429 is unavailable"); return }
        #expect(reason.hasPrefix("rate limited, retry after 0.64 s"))
    }
}

extension ProviderOutcome {
    var isProviderRejected: Bool {
        if case .providerRejected = self { return true }
        return false
    }
}
