// Test-only extension: "Shepherd Tests: Run Suite" runs ../suite inside this extension host (the
// suite file is copied in next to this one when the runner is packaged) and writes the results to
// $SHEPHERD_SUITE_RESULTS.
const vscode = require('vscode');

exports.activate = (context) => {
  context.subscriptions.push(
    vscode.commands.registerCommand('shepherdTests.run', async () => {
      try {
        await require('./suite.js').run();
      } catch (err) {
        // The results file says what failed; keep the host alive.
        console.error(err);
      }
    }),
  );
};
