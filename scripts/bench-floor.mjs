// The floor `npm run bench` measures triage against: only the Kubernetes requests triage truly needs —
// one pod list, the pods' metrics, the Deployment, its ReplicaSets, one log tail per pod and one exec —
// on one keep-alive https.Agent, each body parsed. Usage: node scripts/bench-floor.mjs KUBECONFIG
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import WebSocket from 'ws';
import { parse } from 'yaml';

const LOG_CONCURRENCY = 8;
const config = parse(readFileSync(process.argv[2], 'utf8'));
const context = config.contexts.find((c) => c.name === config['current-context']) ?? config.contexts[0];
const cluster = config.clusters.find((c) => c.name === context.context.cluster).cluster;
const user = config.users.find((u) => u.name === context.context.user).user;
const namespace = context.context.namespace ?? 'default';
const server = new URL(cluster.server);
const ca = cluster['certificate-authority-data'] ? Buffer.from(cluster['certificate-authority-data'], 'base64') : undefined;
const headers = user.token ? { authorization: `Bearer ${user.token}` } : {};
const agent = new Agent({ keepAlive: true, maxSockets: LOG_CONCURRENCY, ca });

function get(path, json = true) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), { agent, headers: { ...headers, accept: json ? 'application/json' : '*/*' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`${path}: HTTP ${res.statusCode} ${body.slice(0, 200)}`));
        else resolve(json ? JSON.parse(body) : body);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const selector = encodeURIComponent('app=aegis-api');
const ns = `/api/v1/namespaces/${namespace}`;
const [pods] = await Promise.all([
  get(`${ns}/pods?labelSelector=${selector}`),
  get(`/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods?labelSelector=${selector}`),
  get(`/apis/apps/v1/namespaces/${namespace}/deployments/aegis-api`),
  get(`/apis/apps/v1/namespaces/${namespace}/replicasets?labelSelector=${selector}`),
]);
const names = pods.items.map((p) => p.metadata.name);
let next = 0;
let errorLines = 0;
await Promise.all(
  Array.from({ length: LOG_CONCURRENCY }, async () => {
    while (next < names.length) {
      const name = names[next++];
      const log = await get(`${ns}/pods/${name}/log?container=aegis-api&tailLines=100&limitBytes=524288`, false);
      for (const line of log.split('\n')) if (/\b(ERROR|FATAL)\b/.test(line)) errorLines += 1;
    }
  }),
);
const exec = new URL(`${ns}/pods/${names[0]}/exec?command=./aegis&command=health&container=aegis-api&stdout=true&stderr=true`, server);
exec.protocol = exec.protocol === 'https:' ? 'wss:' : 'ws:';
const output = await new Promise((resolve, reject) => {
  const socket = new WebSocket(exec, ['v4.channel.k8s.io'], { agent, ca, headers });
  let out = '';
  socket.on('message', (data) => {
    const bytes = Buffer.from(data);
    if (bytes[0] === 1) out += bytes.subarray(1).toString('utf8');
  });
  socket.on('close', () => resolve(out));
  socket.on('error', reject);
});
agent.destroy();
process.stdout.write(`${JSON.stringify({ pods: names.length, errorLines, exec: output.split('\n')[0] })}\n`);
