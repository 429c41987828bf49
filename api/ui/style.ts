/** The console's whole stylesheet, served as /ui/assets/console.css (no framework, no CDN). */
export const CONSOLE_CSS = `
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #f6f8fa; --accent: #0b57d0;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700;
  --critical: #b42318; --high: #e0651b; --medium: #c99a06; --low: #3a78d6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header { display: flex; align-items: center; gap: 1.25rem; padding: .6rem 1.25rem; background: #0f1b2d; color: #fff; }
header .brand { font-weight: 700; letter-spacing: .02em; color: #fff; }
header nav { display: flex; gap: .9rem; flex-wrap: wrap; }
header nav a { color: #c9d6ea; }
header nav a.current { color: #fff; font-weight: 600; }
header .who { margin: 0 0 0 auto; display: flex; align-items: center; gap: .6rem; color: #c9d6ea; }
header .who button { background: transparent; color: #fff; border: 1px solid #51627a; }
main { padding: 1rem 1.25rem 3rem; max-width: 1400px; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { text-align: left; padding: .35rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap, span.wrap, code.wrap { max-width: 34rem; overflow-wrap: anywhere; }
td ul { margin: 0; padding-left: 1rem; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: var(--bg); border: 1px solid var(--line); padding: .75rem; overflow: auto; max-height: 28rem; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: 12px; line-height: 1.6; border: 1px solid var(--line); background: var(--bg); white-space: nowrap; }
.badge.critical { background: var(--critical); color: #fff; border-color: var(--critical); }
.badge.high { background: var(--high); color: #fff; border-color: var(--high); }
.badge.medium { background: var(--medium); color: #fff; border-color: var(--medium); }
.badge.low { background: var(--low); color: #fff; border-color: var(--low); }
.badge.ok, .badge.delivered, .badge.completed, .badge.resolved, .badge.closed, .badge.succeeded { color: var(--ok); border-color: var(--ok); background: #eefbf1; }
.badge.bad, .badge.failed, .badge.breached { color: var(--bad); border-color: var(--bad); background: #fff0f0; }
.badge.pending, .badge.processing, .badge.running, .badge.partially_failed, .badge.in_progress, .badge.interrupted { color: var(--warn); border-color: var(--warn); background: #fff8e6; }
.flash { padding: .6rem .8rem; border-radius: 6px; margin: 0 0 1rem; border: 1px solid; }
.flash.ok { color: var(--ok); background: #eefbf1; }
.flash.error { color: var(--bad); background: #fff0f0; white-space: pre-wrap; }
.callout { padding: .6rem .8rem; border-radius: 6px; margin: 0 0 1rem; border: 1px solid var(--line); display: grid; gap: .3rem; }
.callout.bad { color: var(--bad); border-color: var(--bad); background: #fff0f0; }
.callout.bad a { font-weight: 600; }
form.stack .secret { display: grid; gap: .2rem; }
form.stack label.remove { display: flex; align-items: center; gap: .3rem; font-size: 12px; color: var(--muted); }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: end; margin: 0 0 .75rem; padding: .6rem; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: .15rem; }
form.stack { display: grid; gap: .6rem; max-width: 48rem; }
form.stack label { display: grid; gap: .2rem; }
form.stack .hint { color: var(--muted); font-size: 12px; }
details { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .7rem; }
details[open] { display: grid; gap: .6rem; padding-bottom: .8rem; }
summary { cursor: pointer; color: var(--accent); }
form.inline { display: inline; }
input, select, textarea, button { font: inherit; }
input[type=text], input[type=password], input[type=search], input[type=datetime-local], input[type=number], select, textarea { padding: .3rem .45rem; border: 1px solid var(--line); border-radius: 5px; background: #fff; }
textarea { width: 100%; min-height: 3.2rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
button, .button { padding: .3rem .8rem; border-radius: 5px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; display: inline-block; font-size: 14px; line-height: 1.45; }
.button:hover { text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; margin: .5rem 0 1rem; align-items: center; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem; margin-bottom: 1.25rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .7rem .9rem; }
.card .value { font-size: 1.7rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); }
.card.alert .value { color: var(--bad); }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: .5rem; max-width: 60rem; }
.chart text { font-size: 11px; fill: var(--muted); }
.legend { display: flex; gap: 1rem; font-size: 12px; color: var(--muted); margin: .3rem 0 0 .4rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: -1px; margin-right: .25rem; }
.swatch.critical { background: var(--critical); } .swatch.high { background: var(--high); }
.swatch.medium { background: var(--medium); } .swatch.low { background: var(--low); }
.muted { color: var(--muted); }
.login { max-width: 24rem; margin: 12vh auto; padding: 1.5rem; border: 1px solid var(--line); border-radius: 10px; }
progress { width: 24rem; height: 1rem; }
`;
