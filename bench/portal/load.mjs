// The employer portal under load: N signed-in sessions (50) browsing
// placement pages (each page: the placement's status, its timeline and its
// summary, three calls to duurzaamd) at once, beside duurzaamd's own
// GetTimeline under as many concurrent callers in the same run, on the same
// server (duurzaam_timeline_load, over the portal's own PORTAL certificate).
// Target: page p95 <= 200 ms. Every loop is bounded in time and count.
//
//   node bench/portal/load.mjs [--build=BUILD_DIR] [--sessions=50] [--seconds=10] [--smoke]
//
// Sessions sign in over plain HTTPS requests (the OpenID Connect flow with
// PKCE against tests/portal/provider.mjs, no browser).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { root, Stack } from '../../tests/portal/stack.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.join('=') || true];
  }),
);
const smoke = Boolean(args.smoke);
const sessions = Number(args.sessions || (smoke ? 5 : 50));
const seconds = Number(args.seconds || (smoke ? 1 : 10));
const maxRequests = smoke ? 200 : 200000;
const build = path.resolve(args.build || path.join(root, 'build'));

const stack = new Stack({ build });
await stack.startServer();
const portal = await stack.startPortal('portal', ['--threads=128']);
const ca = readFileSync(path.join(stack.pki, 'ca.pem'));

// One browser's worth of state: a keep-alive connection pool and cookies.
class Client {
  constructor() {
    this.agent = new https.Agent({ ca, keepAlive: true, maxSockets: 1 });
    this.cookies = new Map(); // origin -> Map(name -> value)
  }
  request(method, url, body) {
    const u = new URL(url);
    const jar = this.cookies.get(u.origin) || new Map();
    const headers = { Cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (body) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers.Origin = u.origin;
    }
    return new Promise((resolve, reject) => {
      const req = https.request(u, { method, agent: this.agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          for (const c of [res.headers['set-cookie'] || []].flat()) {
            const [pair] = c.split(';');
            const eq = pair.indexOf('=');
            jar.set(pair.slice(0, eq), pair.slice(eq + 1));
          }
          this.cookies.set(u.origin, jar);
          resolve({ status: res.statusCode, location: res.headers.location, body: Buffer.concat(chunks).toString() });
        });
      });
      req.on('error', reject);
      req.setTimeout(15000, () => req.destroy(new Error(`timeout: ${url}`)));
      if (body) req.write(new URLSearchParams(body).toString());
      req.end();
    });
  }
  // Follows redirects from `url` until a 200 or `stop` says enough.
  async follow(url, stop = () => false) {
    let response = await this.request('GET', url);
    for (let hops = 0; hops < 10 && response.location && !stop(url); hops++) {
      url = new URL(response.location, url).toString();
      response = await this.request('GET', url);
    }
    return { url, response };
  }
}

async function signIn(account) {
  const c = new Client();
  // Portal -> provider -> its login form.
  const { url, response } = await c.follow(`${portal}/inloggen`);
  const action = response.body.match(/action="([^"]+)"/)?.[1];
  if (!action) throw new Error(`no login form at ${url}`);
  let r = await c.request('POST', action, { prompt: 'login', login: account, password: 'x' });
  let at = action;
  for (let hops = 0; hops < 10 && r.location; hops++) {
    at = new URL(r.location, at).toString();
    r = await c.request('GET', at);
  }
  if (!at.startsWith(`${portal}/plaatsingen`) || r.status !== 200) {
    throw new Error(`sign-in of ${account} ended at ${at} (${r.status})`);
  }
  return c;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const accounts = ['acme-hr', 'acme-planner'];
const clients = await Promise.all(
  Array.from({ length: sessions }, (_, i) => signIn(accounts[i % accounts.length])),
);
const caseIds = ['anna', 'bram', 'ivo'];
// Warm up: every session opens its first page once.
await Promise.all(clients.map((c, i) => c.request('GET', `${portal}/plaatsingen/${caseIds[i % 3]}`)));

// The portal: every session loads placement pages one after the other.
const latencies = [];
let issued = 0;
const deadline = Date.now() + seconds * 1000;
const t0 = Date.now();
await Promise.all(
  clients.map(async (c, i) => {
    for (let n = 0; Date.now() < deadline && issued++ < maxRequests; n++) {
      const start = process.hrtime.bigint();
      const r = await c.request('GET', `${portal}/plaatsingen/${caseIds[(i + n) % 3]}`);
      if (r.status !== 200 || !r.body.includes('id="timeline"')) {
        throw new Error(`page ${r.status}: ${r.body.slice(0, 200)}`);
      }
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }),
);
const elapsed = (Date.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const pages = {
  requests: latencies.length,
  per_second: latencies.length / elapsed,
  p50_ms: percentile(latencies, 50),
  p95_ms: percentile(latencies, 95),
  p99_ms: percentile(latencies, 99),
};

// The baseline: duurzaamd's GetTimeline, as many callers, same run.
const baseline = JSON.parse(
  execFileSync(
    stack.bin('bench/duurzaam_timeline_load'),
    [
      `--server=localhost:${stack.serverPort}`,
      `--ca=${stack.pki}/ca.pem`,
      `--cert=${stack.pki}/clients/werkgeversportaal.pem`,
      `--key=${stack.pki}/clients/werkgeversportaal.key`,
      '--header=x-duurzaam-on-behalf-of:planning@acme.example',
      '--header=x-duurzaam-organisation:acme',
      `--cases=${caseIds.join(',')}`,
      `--clients=${sessions}`,
      `--seconds=${seconds}`,
      `--max=${maxRequests}`,
    ],
    { encoding: 'utf8' },
  ),
);

const row = (name, value, unit, baseName, base, target, met) =>
  console.log(
    `${name.padEnd(62)} ${value.toFixed(1).padStart(9)} ${unit.padEnd(8)} | ${baseName} ${base.toFixed(1)} | ratio ${(value / base).toFixed(2)}x | target ${target}${met ? '' : '  [MISSED]'}`,
  );
console.log(`portal load, ${sessions} signed-in sessions, ${seconds} s${smoke ? ' (smoke: measures nothing)' : ''}`);
const met = smoke || pages.p95_ms <= 200;
row(`portal placement page p95 (status + timeline + summary)`, pages.p95_ms, 'ms',
  `duurzaamd GetTimeline p95, ${sessions} callers`, baseline.p95_ms, '<= 200 ms', met);
row('portal placement page p50', pages.p50_ms, 'ms', 'GetTimeline p50', baseline.p50_ms, '', true);
row('portal pages per second', pages.per_second, '/s', 'GetTimeline calls per second', baseline.per_second, '', true);
console.log(JSON.stringify({ sessions, seconds, portal: pages, get_timeline: baseline }));
process.exit(met ? 0 : 1);
