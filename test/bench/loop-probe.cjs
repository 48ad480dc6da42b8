// Preloaded into a gateway process (`node --require test/bench/loop-probe.cjs ...`) to measure
// event-loop stalls the same way in Shepherd and the bare proxy (which has no metrics; Shepherd's own
// /metrics figure is reported beside it). Every 250 ms it
// appends "epoch-ms max-ms p99-ms" (the event-loop delay in that window, from perf_hooks'
// monitorEventLoopDelay, 5 ms resolution) to $BENCH_LOOP_PROBE_FILE and starts a new window.
// Its own cost: one timer every 5 ms (the histogram's) and one small write every 250 ms.
const file = process.env.BENCH_LOOP_PROBE_FILE;
if (file) {
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const fs = require('node:fs');
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const fd = fs.openSync(file, 'a');
  const ms = (ns) => (Number.isFinite(ns) ? ns / 1e6 : 0).toFixed(2);
  setInterval(() => {
    fs.writeSync(fd, `${Date.now()} ${ms(histogram.max)} ${ms(histogram.percentile(99))}\n`);
    histogram.reset();
  }, 250).unref();
}
