/// The admin console's style sheet, served at `/console/console.css`.
///
/// Kept in Swift so the binary serves it with no files beside it; edit it here.
enum ConsoleStyles {
    static let source = #"""
:root { color-scheme: light; --bg: #f4f6f9; --panel: #ffffff; --text: #1b2230; --muted: #5b6575; --line: #dde2ea; --accent: #2457d6;
  --accent-soft: #e8efff; --danger: #b42318; --ok: #067647; --warn: #b54708; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
code, .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.skip { position: absolute; left: -9999px; top: 8px; background: var(--panel); padding: 8px 12px; border-radius: 6px; z-index: 10; }
.skip:focus { left: 8px; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }

.topbar { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #101828; color: #ffffff; }
.brand { font-weight: 700; letter-spacing: 0.02em; display: flex; align-items: center; gap: 8px; }
.brand .mark { display: inline-block; width: 22px; height: 22px; border-radius: 6px; background: var(--accent); }
.tenant { color: #c7d0de; font-size: 14px; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.topbar form { margin: 0; }
.topbar button { background: transparent; color: #ffffff; border: 1px solid #475467; }

.layout { display: grid; grid-template-columns: 200px 1fr; min-height: calc(100vh - 52px); }
nav { background: var(--panel); border-right: 1px solid var(--line); padding: 16px 10px; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 2px; }
nav a { display: block; padding: 8px 12px; border-radius: 8px; color: var(--text); text-decoration: none; }
nav a:hover { background: var(--bg); }
nav a[aria-current="page"] { background: var(--accent-soft); color: var(--accent); font-weight: 600; }
main { padding: 24px 28px 48px; min-width: 0; }
main:focus { outline: none; }
h1 { margin: 0 0 6px; font-size: 24px; }
h2 { font-size: 17px; margin: 24px 0 10px; }
h3 { font-size: 14px; margin: 18px 0 8px; }
.muted { color: var(--muted); margin-top: 0; }

.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin: 16px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 14px 16px; }
.card-label { color: var(--muted); font-size: 13px; }
.card-value { font-size: 26px; font-weight: 700; margin: 2px 0; }
.card-hint { color: var(--muted); font-size: 12px; }
.split { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 24px; align-items: start; }
.editor-split { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }

.table-wrap { overflow-x: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 12px; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 9px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); background: #fafbfc; white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.reason { max-width: 320px; overflow-wrap: anywhere; color: var(--muted); }
td.empty { color: var(--muted); text-align: center; padding: 20px; }
td.actions { white-space: nowrap; display: flex; gap: 6px; }

.chip { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 999px; background: var(--bg); border: 1px solid var(--line); white-space: nowrap; }
.status-sent, .status-delivered, .chip.on { background: #ecfdf3; color: var(--ok); border-color: #abefc6; }
.status-failed, .status-dead_lettered, .chip.off { background: #fef3f2; color: var(--danger); border-color: #fecdca; }
.status-suppressed, .status-cancelled { background: #f2f4f7; color: var(--muted); }
.status-queued, .status-sending { background: #fffaeb; color: var(--warn); border-color: #fedf89; }
.status-done, .status-completed { background: #ecfdf3; color: var(--ok); border-color: #abefc6; }
.status-skipped, .status-pending { background: #f2f4f7; color: var(--muted); }
.status-waiting, .status-active { background: var(--accent-soft); color: var(--accent); border-color: #c7d7fe; }
.priority-critical { background: #fef3f2; color: var(--danger); border-color: #fecdca; }
.priority-high { background: #fffaeb; color: var(--warn); border-color: #fedf89; }

button, .button { font: inherit; font-size: 14px; font-weight: 600; border-radius: 8px; padding: 8px 14px; cursor: pointer; border: 1px solid var(--accent);
  background: var(--accent); color: #ffffff; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: var(--panel); color: var(--text); border-color: var(--line); }
button.small { padding: 3px 10px; font-size: 13px; }
button.link { background: none; border: 0; color: var(--accent); padding: 3px 4px; font-weight: 500; }
button:disabled { opacity: 0.6; cursor: default; }
.row { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; margin: 12px 0; }
.field { display: flex; flex-direction: column; gap: 4px; margin: 10px 0; }
.field.grow { flex: 1; min-width: 200px; }
.field label { font-size: 13px; font-weight: 600; color: var(--muted); }
input, select, textarea { font: inherit; font-size: 14px; color: var(--text); background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 7px 10px; }
textarea { width: 100%; resize: vertical; }
.filters { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 4px 14px; }
.filters .field { margin: 8px 0; }

.banner { border-radius: 8px; padding: 10px 14px; margin: 12px 0; white-space: pre-line; }
.banner.error { background: #fef3f2; color: var(--danger); border: 1px solid #fecdca; }
.banner.ok { background: #ecfdf3; color: var(--ok); border: 1px solid #abefc6; }
.banner.info { background: var(--accent-soft); color: var(--accent); }

.preview { display: flex; flex-direction: column; gap: 14px; }
.preview-channel { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 12px 16px; }
.preview-channel h3 { margin: 0 0 8px; }
.part-name { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); margin-top: 8px; }
.part-value { white-space: pre-wrap; overflow-wrap: anywhere; }
.part-title, .part-subject { font-weight: 600; }
iframe { width: 100%; height: 420px; border: 1px solid var(--line); border-radius: 8px; background: #ffffff; }
.transcript, pre.payload { background: #0f1728; color: #e4e7ec; border-radius: 8px; padding: 12px; overflow: auto; max-height: 320px; white-space: pre-wrap; overflow-wrap: anywhere; }
.detail { margin-top: 20px; }
.detail:empty { display: none; }
.detail h2 { display: inline-block; margin-right: 12px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 12px 16px; }
.facts dt { color: var(--muted); font-size: 13px; }
.facts dd { margin: 0; overflow-wrap: anywhere; }

/* Workflow runs: one timeline per recipient */
.run-counts { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); }
.run-counts .card-value { font-size: 22px; }
.runs { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 14px; margin: 12px 0; }
.run { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 12px 16px; min-width: 0; }
.run-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-bottom: 6px; }
.run-head h3 { margin: 0; font-size: 15px; }
.timeline { list-style: none; margin: 0; padding: 0; }
.timeline > li { position: relative; padding: 4px 0 12px 34px; }
.timeline > li::before { content: ""; position: absolute; left: 11px; top: 26px; bottom: 0; border-left: 2px solid var(--line); }
.timeline > li:last-child { padding-bottom: 2px; }
.timeline > li:last-child::before { display: none; }
.step-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.step-number { position: absolute; left: 0; top: 2px; width: 24px; height: 24px; border-radius: 50%; display: grid; place-items: center;
  font-size: 12px; font-weight: 700; background: var(--bg); border: 2px solid var(--line); color: var(--muted); }
.step-done .step-number { background: #ecfdf3; border-color: #75e0a7; color: var(--ok); }
.step-waiting .step-number, .step-sending .step-number { background: var(--accent-soft); border-color: var(--accent); color: var(--accent); }
.step-failed .step-number { background: #fef3f2; border-color: #fda29b; color: var(--danger); }
.step-skipped .step-summary, .step-pending .step-summary { color: var(--muted); }
.step-summary { font-weight: 600; }
.step-reason { color: var(--muted); font-size: 13px; }
.step-time { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.step-messages { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px 12px; font-size: 13px; }
.step-messages li { display: flex; align-items: center; gap: 6px; }

/* Workflow editor */
.workflow-editor { margin-top: 32px; border-top: 1px solid var(--line); padding-top: 8px; }
.workflow-editor #workflow { min-height: 130px; }
.problems { margin: 0 0 10px; padding: 10px 14px 10px 30px; border-radius: 8px; background: #fef3f2; color: var(--danger); border: 1px solid #fecdca; }
.problems li { margin: 2px 0; overflow-wrap: anywhere; }
textarea[aria-invalid="true"] { border-color: var(--danger); }
fieldset.sample-subscriber { border: 1px solid var(--line); border-radius: 12px; padding: 4px 14px 8px; margin: 10px 0; }
fieldset.sample-subscriber legend { font-size: 13px; font-weight: 600; color: var(--muted); padding: 0 4px; }
fieldset.sample-subscriber .row { margin: 0; }
fieldset.sample-subscriber .muted { margin: 0; font-size: 13px; }
fieldset.sample-subscriber .field.grow { min-width: 120px; }
.field.check label { display: flex; align-items: center; gap: 8px; color: var(--text); font-weight: 500; }
.workflow-preview { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 12px 16px; }
.workflow-preview .outcome { margin: 0 0 10px; }

/* Sign-in */
.signin { max-width: 420px; margin: 10vh auto; background: var(--panel); border: 1px solid var(--line); border-radius: 14px; padding: 28px; }
.signin h1 { display: flex; align-items: center; gap: 10px; }
.signin .mark { display: inline-block; width: 26px; height: 26px; border-radius: 7px; background: var(--accent); }
.signin input { width: 100%; }
.signin button { width: 100%; margin-top: 8px; }

code.wrap { word-break: break-all; white-space: pre-wrap; }
form.inline { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
table.dns td { vertical-align: top; }
@media (max-width: 760px) {
  .layout { grid-template-columns: minmax(0, 1fr); }
  nav { border-right: 0; border-bottom: 1px solid var(--line); padding: 8px; overflow-x: auto; }
  nav ul { flex-direction: row; }
  nav a { white-space: nowrap; }
  main { padding: 16px 14px 40px; }
  .split, .editor-split { grid-template-columns: minmax(0, 1fr); }
  .runs { grid-template-columns: minmax(0, 1fr); }
  .topbar { padding: 10px 14px; }
  .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .signin { margin: 6vh 14px; }
}
"""#
}
