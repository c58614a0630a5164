/// The standalone preference page's style sheet, served at `/preferences/page.css`.
///
/// Kept in Swift so the binary serves it with no files beside it; edit it here.
enum PreferencePageStyles {
    static let source = #"""
:root { color-scheme: light; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; background: #f4f5f7; }
* { box-sizing: border-box; }
body { margin: 0; padding: 32px 16px; }
main { max-width: 760px; margin: 0 auto; }
.tenant { margin: 0 0 12px; color: #5b6472; font-size: 14px; font-weight: 600; letter-spacing: 0.02em; }
.card { background: #ffffff; border: 1px solid #dfe3ea; border-radius: 12px; padding: 28px; }
h1 { margin: 0 0 12px; font-size: 22px; }
p { margin: 0 0 14px; }
herald-preferences { --herald-radius: 12px; }
@media (max-width: 520px) { body { padding: 16px 10px; } .card { padding: 20px; } }
"""#
}
