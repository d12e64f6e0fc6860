// The employer portal end to end, as its users meet it: Debian's Chromium
// (driven by playwright-core), a real duurzaamd (mutual TLS, demo data), a
// real OpenID Connect provider (provider.mjs) and duurzaam-portal with its
// own PORTAL certificate, all on loopback, started here.
//
//   node e2e.mjs --build=BUILD_DIR --out=SCREENSHOT_DIR [--keep]
//
// Checks: sign in, list, filter, open a timeline, record a contract change
// (and a refused one, its errors beside the fields), another organisation's
// placement refused, CSRF refused, session expiry, sign out; axe-core on
// every page (zero violations); a keyboard-only pass through the main flow;
// every byte the employer's browser received scanned for the EXPERT and
// RESTRICTED values an expert recorded in this test (zero; with a positive
// control). A screenshot of each page goes to SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { root, Stack } from './stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, ...v] = a.replace(/^--/, '').split('=');
    return [k, v.join('=') || true];
  }),
);
const build = path.resolve(args.build || path.join(root, 'build'));
const shots = path.resolve(args.out || path.join(build, 'portal-screenshots'));
mkdirSync(shots, { recursive: true });
let failed = false;

function log(...m) {
  console.log('[e2e]', ...m);
}

// ---- the deployment ----------------------------------------------------
const stack = new Stack({ build, keep: Boolean(args.keep) });
const { pki, work } = stack;
const bin = (p) => stack.bin(p);
const run = (cmd, argv, env) => stack.run(cmd, argv, env);
await stack.startServer();
const serverPort = stack.serverPort;
const portalUrl = await stack.startPortal('portal');
const shortUrl = await stack.startPortal('portal (short sessions)', ['--session_idle=2']);
const pagedUrl = await stack.startPortal('portal (two per page)', ['--page_size=2']);
log('duurzaamd, three providers and three portals are up');

// ---- what an expert records (the values no employer byte may hold) -----
const tag = randomBytes(4).toString('hex');
const secrets = {
  privateLife: `mantelzorg-voor-moeder-${tag}`,
  contact: `besproken-slaapproblemen-${tag}`,
  intervention: `coach-voor-burnoutklachten-${tag}`,
  remarks: `werknemer-noemt-medicatie-${tag}`,
  judgement: `oordeel-vanwege-diagnose-${tag}`,
  workerRef: `werknemer-ref-${tag}`,
};
const expertEnv = { DUURZAAM_EXPERT_PASSPHRASE: 'een lange wachtwoordzin voor de test' };
const expert = (...a) =>
  run(bin('clients/duurzaam-expert'), [`--dir=${path.join(work, 'laptop')}`, ...a], expertEnv);
expert('init', `--server=localhost:${serverPort}`, `--pki=${pki}`, '--user=jdevries');
expert('sync');
const recordJson = (caseId, event) => expert('record', caseId, `--event-json=${JSON.stringify(event)}`);
recordJson('anna', { privateLifeChanged: { details: secrets.privateLife } });
expert('record', 'anna', 'contact', `--summary=${secrets.contact}`);
recordJson('anna', {
  interventionStarted: { kind: 'INTERVENTION_KIND_COACHING', description: secrets.intervention },
});
recordJson('anna', {
  monitoringCheckIn: {
    respondent: 'RESPONDENT_WORKER',
    scores: [{ item: 'ITEM_FIT', score: 4 }],
    remarks: secrets.remarks,
  },
});
recordJson('anna', {
  expertJudgement: { level: 'STATUS_LEVEL_VULNERABLE', reason: secrets.judgement, expiresOn: { year: 2027, month: 6, day: 1 } },
});
recordJson(`nieuw-${tag}`, {
  caseOpened: { workerRef: secrets.workerRef, employerId: 'acme', region: 'Groot Amsterdam', targetGroup: 'Wajong' },
});
const synced = expert('--json', 'sync');
assert.match(synced, /"appended":\s*6/, `the expert's six entries were recorded: ${synced}`);
// Positive control: the expert reads them all.
const ctl = (...a) => stack.ctl(...a);
const expertView = ctl('timeline', 'anna', '--json') + ctl('timeline', `nieuw-${tag}`, '--json');
for (const [name, value] of Object.entries(secrets)) {
  assert.ok(expertView.includes(value), `the expert reads ${name}`);
}
log('an expert recorded private-life, contact, intervention, check-in and judgement details');

// ---- the browser ---------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const axeSource = readFileSync(path.join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');
const received = []; // every byte from a portal to the employer's browser

function watch(context) {
  context.on('response', async (response) => {
    if (!response.url().startsWith('https://localhost:')) return;
    const headers = JSON.stringify(response.headers());
    let body = Buffer.alloc(0);
    try {
      body = await response.body();
    } catch {}
    received.push(Buffer.from(`${response.url()}\n${headers}\n`), body);
  });
}

async function newContext() {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'nl-NL' });
  watch(context);
  return context;
}

async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  const problems = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  assert.deepEqual(problems, [], `axe on ${name}`);
  log(`axe: ${name}: 0 violations (${result.passes.length} rules passed)`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function signIn(page, base, account) {
  await page.goto(`${base}/`);
  await page.getByRole('link', { name: 'Inloggen met eHerkenning' }).click();
  await page.waitForURL(/\/interaction\//);
  await page.fill('input[name=login]', account);
  await page.fill('input[name=password]', 'willekeurig');
  await page.click('button[type=submit]');
  await page.waitForURL(new RegExp(`${base}/plaatsingen`));
}

async function step(name, fn) {
  try {
    await fn();
    log(`ok: ${name}`);
  } catch (e) {
    failed = true;
    console.error(`[e2e] FAILED: ${name}\n${e.stack || e}\n${stack.tails()}`);
  }
}

const context = await newContext();
const page = await context.newPage();

await step('the sign-in page', async () => {
  const response = await page.goto(`${portalUrl}/`);
  const h = response.headers();
  assert.match(h['content-security-policy'], /default-src 'none'/);
  assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
  assert.match(h['strict-transport-security'], /max-age=\d+/);
  assert.equal(h['cache-control'], 'no-store');
  assert.equal(await page.getAttribute('html', 'lang'), 'nl');
  await axe(page, 'sign-in');
  await shot(page, '01-inloggen');
});

await step('sign in as the demo employer (OpenID Connect, PKCE)', async () => {
  await signIn(page, portalUrl, 'acme-hr');
  const cookies = await context.cookies(portalUrl);
  const session = cookies.find((c) => c.name === '__Host-dz-session');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, 'Lax');
  assert.ok(!cookies.some((c) => /token|id_token/i.test(c.name + c.value)), 'no token in a cookie');
  await page.getByRole('heading', { level: 1, name: 'Mijn plaatsingen' }).waitFor();
});

await step('my placements: only the organisation\'s, sortable, filterable', async () => {
  const rows = await page.locator('table.placements tbody th a').allTextContents();
  assert.deepEqual(rows.sort(), ['anna', 'bram', 'ivo', `nieuw-${tag}`].sort());
  assert.ok(!rows.includes('fleur') && !rows.includes('emre'));
  await axe(page, 'placements');
  await shot(page, '02-plaatsingen');
  // The AT_RISK ones by their badge, then the filter, ordered by case.
  const expected = [];
  for (const row of await page.locator('table.placements tbody tr').all()) {
    if ((await row.locator('.level').innerText()) === 'Risico') {
      expected.push(await row.locator('th a').innerText());
    }
  }
  assert.ok(expected.length >= 2, 'bram and ivo are at risk');
  await page.check('#level-3');
  await page.selectOption('#order', 'case');
  await page.getByRole('button', { name: 'Toepassen' }).click();
  await page.waitForURL(/level=AT_RISK/);
  const atRisk = await page.locator('table.placements tbody th a').allTextContents();
  assert.deepEqual(atRisk, expected.sort());
  assert.equal(await page.isChecked('#level-3'), true);
  await axe(page, 'placements, filtered');
  await shot(page, '03-plaatsingen-gefilterd');
});

await step('a placement: status, attention and timeline as the employer may read them', async () => {
  await page.goto(`${portalUrl}/plaatsingen`);
  await page.getByRole('link', { name: 'anna', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Plaatsing anna' }).waitFor();
  const timeline = await page.locator('#timeline').innerText();
  assert.match(timeline, /In dienst/);
  await axe(page, 'placement');
  await shot(page, '04-plaatsing');
});

await step('a refused contract change shows its errors beside the fields', async () => {
  await page.getByRole('link', { name: 'Contractwijziging vastleggen' }).click();
  await page.getByRole('heading', { level: 1, name: 'Contractwijziging vastleggen' }).waitFor();
  await axe(page, 'contract form');
  await shot(page, '05-contractwijziging');
  // Fixed-term without an end date: the server refuses, naming
  // event.contract_changed.contract_end; the portal puts it beside the field.
  await page.check('#contract-fixed_term');
  await page.fill('#hours', '32');
  await page.getByRole('button', { name: 'Vastleggen' }).click();
  await page.locator('.error-summary').waitFor();
  const fieldError = await page.locator('#contract_end-error').innerText();
  assert.match(fieldError, /einddatum/i);
  assert.equal(await page.getAttribute('#contract_end', 'aria-invalid'), 'true');
  const link = await page.locator('.error-summary a[href="#contract_end"]').count();
  assert.equal(link, 1, 'the summary links to the field');
  await axe(page, 'contract form with errors');
  await shot(page, '06-contractwijziging-fout');
  // Hours out of range: the server's rule, mapped to the hours field.
  await page.check('#contract-permanent');
  await page.fill('#contract_end', '');
  await page.fill('#hours', '80');
  await page.getByRole('button', { name: 'Vastleggen' }).click();
  await page.locator('#hours-error').waitFor();
  assert.match(await page.locator('#hours-error').innerText(), /uren per week/i);
});

await step('a contract change is recorded once, as the user, and shows on the timeline', async () => {
  await page.fill('#hours', '36');
  await page.getByRole('button', { name: 'Vastleggen' }).click();
  await page.waitForURL(/\/plaatsingen\/anna\?vastgelegd=1/);
  assert.match(await page.locator('.notice').innerText(), /vastgelegd/);
  const timeline = await page.locator('#timeline').innerText();
  assert.match(timeline, /Contract gewijzigd/);
  // The log says who: the user, through the portal.
  const log = run(bin('clients/duurzaamctl'), [
    `--server=localhost:${serverPort}`,
    `--pki=${pki}`,
    '--user=jdevries',
    'timeline',
    'anna',
  ]);
  assert.match(log, /Contract gewijzigd/);
});

await step("another organisation's placement is refused", async () => {
  const response = await page.goto(`${portalUrl}/plaatsingen/fleur`);
  assert.equal(response.status(), 404);
  assert.match(await page.locator('h1').innerText(), /Niet gevonden/);
  await axe(page, 'not found');
  const contract = await page.request.get(`${portalUrl}/plaatsingen/fleur/contract`);
  assert.equal(contract.status(), 404);
});

await step('a write without the form\'s CSRF token, or from another origin, is refused', async () => {
  const before = run(bin('clients/duurzaamctl'), [`--server=localhost:${serverPort}`, `--pki=${pki}`, '--user=jdevries', 'timeline', 'bram']);
  const noToken = await page.request.post(`${portalUrl}/plaatsingen/bram/contract`, {
    form: { contract: 'permanent', hours: '20', occurred_on: '2026-12-01', event_id: '6f1c3f0e-2c3b-4b7a-9d2e-1f2a3b4c5d6e', revision: '0' },
  });
  assert.equal(noToken.status(), 403);
  const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
  const otherOrigin = await page.request.post(`${portalUrl}/plaatsingen/bram/contract`, {
    headers: { Origin: 'https://evil.example' },
    form: { csrf, contract: 'permanent', hours: '20', occurred_on: '2026-12-01', event_id: '6f1c3f0e-2c3b-4b7a-9d2e-1f2a3b4c5d6e', revision: '0' },
  });
  assert.equal(otherOrigin.status(), 403);
  const logout = await page.request.post(`${portalUrl}/uitloggen`, { form: { csrf: 'wrong' } });
  assert.equal(logout.status(), 403);
  const after = run(bin('clients/duurzaamctl'), [`--server=localhost:${serverPort}`, `--pki=${pki}`, '--user=jdevries', 'timeline', 'bram']);
  assert.equal(after, before, 'nothing was recorded');
});

await step('English on request', async () => {
  await page.goto(`${portalUrl}/plaatsingen`);
  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'My placements' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await axe(page, 'placements (English)');
  await shot(page, '07-placements-en');
  await page.getByRole('link', { name: 'Nederlands' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mijn plaatsingen' }).waitFor();
});

await step('the accessibility statement', async () => {
  await page.goto(`${portalUrl}/toegankelijkheid`);
  await axe(page, 'accessibility statement');
});

await step('sign out: here and at the provider', async () => {
  await page.goto(`${portalUrl}/plaatsingen`);
  await page.getByRole('button', { name: 'Uitloggen' }).click();
  // oidc-provider asks whether to sign out there too.
  await page.waitForURL(/127\.0\.0\.1/);
  const yes = page.locator('button[autofocus], button[name=logout], button:has-text("Yes")');
  if (await yes.count()) await yes.first().click();
  await page.waitForURL(new RegExp(`${portalUrl}/\\?uitgelogd=1`));
  assert.match(await page.locator('.notice').innerText(), /uitgelogd/);
  await axe(page, 'signed out');
  await shot(page, '08-uitgelogd');
  const again = await page.goto(`${portalUrl}/plaatsingen`);
  assert.match(again.url(), new RegExp(`${portalUrl}/\\?`));
  await page.getByRole('link', { name: 'Inloggen met eHerkenning' }).waitFor();
});

await step('a session ends after its idle time; what was typed survives, and the page is found again', async () => {
  const c = await newContext();
  const p = await c.newPage();
  await signIn(p, shortUrl, 'acme-hr');
  await new Promise((r) => setTimeout(r, 3000));
  await p.goto(`${shortUrl}/plaatsingen/anna`);
  await p.waitForURL(new RegExp(`${shortUrl}/\\?verlopen=1`));
  assert.match(await p.locator('.error-summary').innerText(), /sessie is verlopen/);
  await axe(p, 'session expired');
  // Signing in again (the provider may still know the user: then no
  // login form) leads back to the page asked for.
  const again = async (expected) => {
    await p.getByRole('link', { name: 'Inloggen met eHerkenning' }).click();
    await p.waitForURL((u) => /\/interaction\//.test(u.toString()) || u.toString() === expected);
    if (/\/interaction\//.test(p.url())) {
      await p.fill('input[name=login]', 'acme-hr');
      await p.fill('input[name=password]', 'x');
      await p.click('button[type=submit]');
    }
    await p.waitForURL(expected);
  };
  await again(`${shortUrl}/plaatsingen/anna`);
  // A form filled in while the session ran out: back, filled in, after sign-in.
  await p.getByRole('link', { name: 'Contractwijziging vastleggen' }).click();
  await p.check('#contract-fixed_term');
  await p.fill('#contract_end', '2028-03-31');
  await p.fill('#hours', '28');
  await new Promise((r) => setTimeout(r, 3000));
  await p.getByRole('button', { name: 'Vastleggen' }).click();
  await p.waitForURL(new RegExp(`${shortUrl}/\\?verlopen=1`));
  await again(`${shortUrl}/plaatsingen/anna/contract`);
  assert.match(await p.locator('.notice').innerText(), /Wat u had ingevuld staat er nog/);
  assert.equal(await p.inputValue('#contract_end'), '2028-03-31');
  assert.equal(await p.inputValue('#hours'), '28');
  assert.equal(await p.isChecked('#contract-fixed_term'), true);
  await c.close();
});

await step('no redirect leads off the portal', async () => {
  for (const target of ['//evil.example', '/%09/evil.example', '/%5Cevil.example', 'https://evil.example', '/%0D%0ASet-Cookie:x=1']) {
    const r = await page.request.get(`${portalUrl}/taal?naar=nl&terug=${target}`, { maxRedirects: 0 });
    assert.equal(r.status(), 303, target);
    assert.equal(r.headers()['location'], '/plaatsingen', target);
  }
});

await step('a user without an employer organisation cannot sign in', async () => {
  const c = await newContext();
  const p = await c.newPage();
  await p.goto(`${portalUrl}/`);
  await p.getByRole('link', { name: 'Inloggen met eHerkenning' }).click();
  await p.fill('input[name=login]', 'zonder-werkgever');
  await p.fill('input[name=password]', 'x');
  await p.click('button[type=submit]');
  await p.waitForURL(new RegExp(`${portalUrl}/\\?fout=1`));
  assert.match(await p.locator('.error-summary').innerText(), /Inloggen is niet gelukt/);
  await c.close();
});

await step('paged: next and previous pages, the choice kept', async () => {
  const c = await newContext();
  const p = await c.newPage();
  await signIn(p, pagedUrl, 'acme-hr');
  await p.selectOption('#order', 'case');
  await p.getByRole('button', { name: 'Toepassen' }).click();
  await p.waitForURL(/order=case/);
  const seen = [];
  seen.push(...(await p.locator('table.placements tbody th a').allTextContents()));
  assert.equal(seen.length, 2);
  await p.getByRole('link', { name: 'Volgende pagina' }).click();
  await p.waitForURL(/page=/);
  assert.match(await p.locator('caption').innerText(), /pagina 2/);
  seen.push(...(await p.locator('table.placements tbody th a').allTextContents()));
  assert.deepEqual(seen, ['anna', 'bram', 'ivo', `nieuw-${tag}`]);
  assert.equal(await p.getByRole('link', { name: 'Volgende pagina' }).count(), 0, 'the last page');
  await axe(p, 'placements, page 2');
  await shot(p, '09-plaatsingen-pagina-2');
  await p.getByRole('link', { name: 'Vorige pagina' }).click();
  await p.waitForURL(/order=case/);
  assert.deepEqual(await p.locator('table.placements tbody th a').allTextContents(), ['anna', 'bram']);
  await c.close();
});

await step('keyboard only: sign in, open a placement, record a contract change', async () => {
  const c = await newContext();
  const p = await c.newPage();
  await p.goto(`${portalUrl}/`);
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement.textContent), 'Naar de inhoud');
  // On to the sign-in link, then Enter.
  for (let i = 0; i < 10; i++) {
    await p.keyboard.press('Tab');
    if ((await p.evaluate(() => document.activeElement.textContent)) === 'Inloggen met eHerkenning') break;
  }
  await p.keyboard.press('Enter');
  await p.waitForURL(/\/interaction\//);
  // The provider's form focuses its first field itself; type only once it
  // has (under load, keys typed earlier land nowhere).
  await p.waitForFunction(() => document.activeElement?.getAttribute('name') === 'login');
  await p.keyboard.type('techniek-hr');
  await p.keyboard.press('Tab');
  await p.keyboard.type('willekeurig');
  await p.keyboard.press('Enter');
  await p.waitForURL(new RegExp(`${portalUrl}/plaatsingen`));
  // Tab to emre's link: focus must be visible on the way.
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await p.keyboard.press('Tab');
    const [text, outline] = await p.evaluate(() => [
      document.activeElement.textContent,
      getComputedStyle(document.activeElement).outlineStyle,
    ]);
    assert.notEqual(outline, 'none', `focus visible on "${text}"`);
    found = text === 'emre';
  }
  assert.ok(found, 'reached the placement link with Tab');
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { level: 1, name: 'Plaatsing emre' }).waitFor();
  found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await p.keyboard.press('Tab');
    found = (await p.evaluate(() => document.activeElement.textContent)) === 'Contractwijziging vastleggen';
  }
  assert.ok(found, 'reached the form link with Tab');
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { level: 1, name: 'Contractwijziging vastleggen' }).waitFor();
  // Radio: Tab into the group, arrow to fixed-term; then the fields.
  const focusTo = async (id) => {
    for (let i = 0; i < 40; i++) {
      if ((await p.evaluate(() => document.activeElement.id)) === id) return;
      await p.keyboard.press('Tab');
    }
    throw new Error(`cannot reach #${id} with Tab`);
  };
  await focusTo('contract-permanent');
  await p.keyboard.press('ArrowDown');
  assert.equal(await p.isChecked('#contract-fixed_term'), true);
  await focusTo('contract_end');
  await p.keyboard.type('2027-12-31');
  await focusTo('hours');
  await p.keyboard.type('36');
  await p.keyboard.press('Enter');
  await p.waitForURL(/\/plaatsingen\/emre\?vastgelegd=1/);
  await c.close();
});

await browser.close();

// ---- the byte scan ---------------------------------------------------------
await step('no EXPERT or RESTRICTED value reached the employer in any byte', async () => {
  const all = Buffer.concat(received);
  assert.ok(all.length > 10000, 'the scan read the responses');
  for (const [name, value] of Object.entries(secrets)) {
    assert.equal(all.indexOf(value), -1, `${name} ("${value}") in an employer response`);
  }
  // Positive control: the same scan finds what the employer may see.
  assert.notEqual(all.indexOf('Mijn plaatsingen'), -1);
  assert.notEqual(all.indexOf(`nieuw-${tag}`), -1);
  // (The expert read every value the scan looked for: checked above.)
  log(`scanned ${all.length} bytes of ${received.length / 2} responses: no secret`);
});

if (failed) {
  console.error('[e2e] FAILED');
  process.exit(1);
}
log(`PASS (screenshots in ${shots})`);
process.exit(0);
