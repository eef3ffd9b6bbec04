// Loaded with `node --import` by the benchmark: reports the process's peak resident set size and the
// CPU time it used (user + system, all threads) on exit. CPU time varies far less than wall time on a
// machine others are using.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const usage = process.resourceUsage();
  writeSync(2, `\nbench-max-rss-kb=${usage.maxRSS}\nbench-cpu-us=${usage.userCPUTime + usage.systemCPUTime}\n`);
});
