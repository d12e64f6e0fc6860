// The portal's deployment on loopback, for its browser tests and its load
// benchmark: a CA and certificates (deploy/duurzaam-pki), duurzaamd with the
// demo data over mutual TLS, and per portal an OpenID Connect provider
// (provider.mjs) and duurzaam-portal with its PORTAL certificate. Every
// process is stopped when this process exits.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');

export async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export class Stack {
  // `build`: the build folder with the binaries. `keep`: leave the work
  // folder behind (for a look after a failure).
  constructor({ build, keep = false }) {
    this.build = build;
    this.work = mkdtempSync(path.join(tmpdir(), 'duurzaam-portal-'));
    this.pki = path.join(this.work, 'pki');
    this.children = [];
    this.logs = {}; // each process's output
    const stop = () => {
      for (const c of this.children) {
        try {
          c.kill('SIGTERM');
        } catch {}
      }
      if (!keep) rmSync(this.work, { recursive: true, force: true });
    };
    process.on('exit', stop);
    for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(1));
  }

  bin(p) {
    return path.join(this.build, p);
  }

  run(cmd, argv, env = {}) {
    return execFileSync(cmd, argv, { cwd: this.work, env: { ...process.env, ...env }, encoding: 'utf8' });
  }

  // Starts a process and waits for a line matching `ready` on its output.
  start(name, cmd, argv, ready) {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, argv, { cwd: this.work });
      this.children.push(child);
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s:\n${out}`)), 60000);
      const onData = (d) => {
        out = (out + d.toString()).slice(-20000);
        this.logs[name] = out;
        if (ready.test(out)) {
          clearTimeout(timer);
          resolve(child);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => {
        if (!ready.test(out)) reject(new Error(`${name} exited (${code}):\n${out}`));
      });
    });
  }

  // The CA, the PORTAL and expert certificates, the master key, duurzaamd.
  async startServer() {
    const pkiTool = path.join(root, 'deploy/duurzaam-pki');
    this.run(pkiTool, ['init', this.pki]);
    this.run(pkiTool, ['issue', this.pki, 'PORTAL', 'werkgeversportaal']);
    this.run(pkiTool, ['issue', this.pki, 'EXPERT', 'jdevries']);
    this.run(this.bin('clients/duurzaamctl'), ['master-key', 'init', path.join(this.work, 'master.keys')]);
    this.serverPort = await freePort();
    await this.start(
      'duurzaamd',
      this.bin('server/duurzaamd'),
      [
        '--demo',
        `--listen=127.0.0.1:${this.serverPort}`,
        `--data_dir=${path.join(this.work, 'data')}`,
        `--tls_cert=${this.pki}/server.pem`,
        `--tls_key=${this.pki}/server.key`,
        `--tls_client_ca=${this.pki}/ca.pem`,
        `--revoked_serials=${this.pki}/revoked-serials`,
        `--master_key_file=${path.join(this.work, 'master.keys')}`,
      ],
      /listening on/,
    );
    writeFileSync(path.join(this.work, 'client-secret'), randomBytes(24).toString('hex'));
  }

  // A provider and a portal (its extra flags in `extra`); its https URL.
  async startPortal(name, extra = []) {
    const portalPort = await freePort();
    const providerPort = await freePort();
    const url = `https://localhost:${portalPort}`;
    await this.start(
      `provider for ${name}`,
      'node',
      [
        path.join(here, 'provider.mjs'),
        `--port=${providerPort}`,
        `--cert=${this.pki}/server.pem`,
        `--key=${this.pki}/server.key`,
        `--client-secret-file=${path.join(this.work, 'client-secret')}`,
        `--redirect-uri=${url}/auth/callback`,
        `--post-logout-redirect-uri=${url}/?uitgelogd=1`,
      ],
      /provider listening/,
    );
    await this.start(
      name,
      this.bin('clients/duurzaam-portal'),
      [
        `--listen=127.0.0.1:${portalPort}`,
        `--tls_cert=${this.pki}/server.pem`,
        `--tls_key=${this.pki}/server.key`,
        `--public_url=${url}`,
        `--server=localhost:${this.serverPort}`,
        `--pki=${this.pki}`,
        `--oidc_issuer=https://127.0.0.1:${providerPort}`,
        '--oidc_client_id=duurzaam-portal',
        `--oidc_client_secret_file=${path.join(this.work, 'client-secret')}`,
        `--oidc_ca=${this.pki}/ca.pem`,
        ...extra,
      ],
      /listening on/,
    );
    return url;
  }

  // duurzaamctl as the expert (every field).
  ctl(...argv) {
    return this.run(this.bin('clients/duurzaamctl'), [
      `--server=localhost:${this.serverPort}`,
      `--pki=${this.pki}`,
      '--user=jdevries',
      ...argv,
    ]);
  }

  // The last lines of every process's output.
  tails(lines = 8) {
    return Object.entries(this.logs)
      .map(([name, out]) => `--- ${name} ---\n${out.split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }
}
