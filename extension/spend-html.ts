// The spend view's page: static markup only, with a strict Content-Security-Policy. Scripts run only
// with this page's nonce and only from the extension's own dist/ (Chart.js is bundled, no CDN); data
// arrives later by postMessage and is written with textContent, never as HTML. Pure.

export interface PageOptions {
  /** webview.cspSource */
  cspSource: string;
  nonce: string;
  scriptUri: string;
}

export function spendPage(o: PageOptions): string {
  const csp = [
    "default-src 'none'",
    `img-src ${o.cspSource} data:`,
    `style-src ${o.cspSource} 'nonce-${o.nonce}'`,
    `script-src 'nonce-${o.nonce}'`,
    `font-src ${o.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Shepherd Spend</title>
<style nonce="${o.nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>Shepherd <span id="sandbox" class="badge" hidden>SANDBOX</span></h1>
  <p id="summary" role="status" aria-live="polite">Waiting for the daemon…</p>
  <div class="actions"><button id="refresh" type="button">Refresh</button> <button id="open-config" type="button">Open Config</button></div>
</header>
<p id="empty" class="empty" hidden>No requests yet this month. Point a tool at the base URL, or select some code and run <strong>Shepherd: Explain Selection</strong>.</p>
<section class="charts" aria-label="Charts">
  <figure><figcaption id="cap-daily">Daily spend</figcaption><div class="chart"><canvas id="daily" role="img" aria-labelledby="cap-daily" tabindex="0"></canvas></div></figure>
  <figure><figcaption id="cap-cumulative">Month to date against the budget</figcaption><div class="chart"><canvas id="cumulative" role="img" aria-labelledby="cap-cumulative" tabindex="0"></canvas></div></figure>
  <figure><figcaption id="cap-groups">Spend by model group</figcaption><div class="chart"><canvas id="groups" role="img" aria-labelledby="cap-groups" tabindex="0"></canvas></div></figure>
  <figure><figcaption id="cap-requests">Requests and errors per day</figcaption><div class="chart"><canvas id="requests" role="img" aria-labelledby="cap-requests" tabindex="0"></canvas></div></figure>
</section>
<section id="cascade-section" aria-labelledby="cascade-title" hidden>
  <h2 id="cascade-title">Cascade (auto answers checked, escalated when a check fails)</h2>
  <p id="cascade-summary"></p>
  <table id="cascade" tabindex="0"><caption class="sr-only">Cascaded requests by day: escalations, what each check caught, cost and saving</caption>
    <thead><tr><th scope="col">Day (UTC)</th><th scope="col">Requests</th><th scope="col">Escalated</th><th scope="col">Caught</th><th scope="col">Cost</th><th scope="col" id="cascade-baseline">All on the strong group</th><th scope="col">Saved</th></tr></thead>
    <tbody></tbody></table>
</section>
<section id="health-section" aria-labelledby="health-title">
  <h2 id="health-title" tabindex="-1">Health</h2>
  <table id="health" tabindex="0"><caption class="sr-only">Deployment health</caption>
    <thead><tr><th scope="col">Deployment</th><th scope="col">Group</th><th scope="col">Region</th><th scope="col">State</th><th scope="col">Latency p50</th><th scope="col">Error rate</th><th scope="col">Circuit</th><th scope="col">Last incident</th></tr></thead>
    <tbody></tbody></table>
</section>
<section id="team-section" aria-labelledby="team-title" hidden>
  <h2 id="team-title">Team</h2>
  <p id="team-state" role="status" aria-live="polite"></p>
  <table id="team" tabindex="0"><caption class="sr-only">The whole team's spend this month, by member</caption>
    <thead><tr><th scope="col">Member</th><th scope="col">Requests</th><th scope="col">Spend</th></tr></thead>
    <tbody></tbody></table>
</section>
<section aria-labelledby="recent-title">
  <h2 id="recent-title">Recent requests</h2>
  <table id="recent" tabindex="0"><caption class="sr-only">The latest requests, newest first</caption>
    <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Model</th><th scope="col">Client</th><th scope="col">Deployment</th><th scope="col">Tokens</th><th scope="col">Cost</th><th scope="col">Latency</th><th scope="col">Status</th></tr></thead>
    <tbody></tbody></table>
</section>
<script nonce="${o.nonce}" src="${o.scriptUri}"></script>
</body>
</html>`;
}

// VS Code's theme variables only: the page follows light, dark and high-contrast themes.
const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 16px 24px; }
h1 { font-size: 1.4em; margin: 12px 0 4px; } h2 { font-size: 1.1em; margin: 20px 0 8px; }
.badge { font-size: 0.6em; padding: 2px 6px; border-radius: 4px; background: var(--vscode-statusBarItem-warningBackground); color: var(--vscode-statusBarItem-warningForeground); vertical-align: middle; }
.actions { margin: 8px 0; }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 10px; cursor: pointer; }
button:hover { background: var(--vscode-button-hoverBackground); }
button:focus-visible, canvas:focus-visible, table:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
.empty { padding: 8px 12px; border-left: 3px solid var(--vscode-textLink-foreground); background: var(--vscode-textBlockQuote-background); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
figure { margin: 0; padding: 8px; border: 1px solid var(--vscode-panel-border); }
figcaption { font-weight: 600; margin-bottom: 4px; }
.chart { position: relative; height: 220px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--vscode-panel-border); white-space: nowrap; }
th { color: var(--vscode-descriptionForeground); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.state-healthy { color: var(--vscode-testing-iconPassed); } .state-degraded, .state-half-open { color: var(--vscode-editorWarning-foreground); }
.state-unhealthy, .state-open, .state-error { color: var(--vscode-errorForeground); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;
