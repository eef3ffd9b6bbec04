// `npm run bench`: speed and memory of the built CLI, each reported as a ratio against a baseline
// measured in the same run on the same machine, so results compare across machines.
//
//   start-up   `aegis-ir --help` against plain `node -e 0`
//   triage     wall time of `triage` against the slowest single check it ran (1.0 = perfectly parallel),
//              and the sum of its checks' durations against the slowest (the speed-up of running them together)
//   memory     peak RSS of `triage` against plain node, on the sandbox
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/aegis-ir.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./rss-probe.mjs', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeCommand(args, env = process.env) {
  const times = [];
  for (let i = 0; i < RUNS; i += 1) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0 && result.status !== 3) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return median(times);
}

function peakRss(args, env = process.env) {
  const result = spawnSync(process.execPath, ['--import', PROBE, ...args], { env, encoding: 'utf8' });
  const match = /bench-max-rss-kb=(\d+)/.exec(result.stderr);
  if (!match) throw new Error(`no RSS reported by ${args.join(' ')}: ${result.stderr}`);
  return Number(match[1]);
}

/** Starts `aegis-ir drill <scenario> --keep` and resolves with the sandbox's KUBECONFIG. */
function startSandbox(scenario) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'drill', scenario, '--keep'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /export KUBECONFIG=(\S+)/.exec(out);
      if (match && out.includes('Ctrl-C')) resolve({ kubeconfig: match[1], stop: () => child.kill('SIGINT') });
    });
    child.on('exit', (code) => reject(new Error(`drill exited ${code} before the sandbox was ready:\n${out}`)));
  });
}

const rows = [];
const report = (name, value, baseline, unit) => {
  rows.push({ benchmark: name, value: `${value.toFixed(1)} ${unit}`, baseline: `${baseline.toFixed(1)} ${unit}`, ratio: (value / baseline).toFixed(2) });
};

const nodeStart = timeCommand(['-e', '0']);
report('start-up: aegis-ir --help', timeCommand([CLI, '--help']), nodeStart, 'ms');
report('start-up: aegis-ir --version', timeCommand([CLI, '--version']), nodeStart, 'ms');

const sandbox = await startSandbox('crashloop-after-deploy');
try {
  const env = { ...process.env, KUBECONFIG: sandbox.kubeconfig };
  const walls = [];
  const slowest = [];
  const sums = [];
  for (let i = 0; i < RUNS; i += 1) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [CLI, 'triage', '-o', 'json'], { env, encoding: 'utf8' });
    walls.push(Number(process.hrtime.bigint() - started) / 1e6);
    const document = JSON.parse(result.stdout);
    slowest.push(Math.max(...document.checks.map((c) => c.durationMs)));
    sums.push(document.checks.reduce((n, c) => n + c.durationMs, 0));
  }
  // Process start-up is not the checks' doing: compare the checks' span with the slowest check.
  report('triage: wall time vs slowest check (+ start-up)', median(walls), median(slowest) + timeCommand([CLI, '--version']), 'ms');
  // What running the checks one after another would cost, against what running them together did.
  report('triage: checks run serially vs in parallel', median(sums), median(slowest), 'ms');
  report('memory: triage peak RSS vs plain node', peakRss([CLI, 'triage', '-o', 'json'], env), peakRss(['-e', '0']), 'KiB');
} finally {
  sandbox.stop();
}

console.table(rows);
