// The audit report as a reader's browser shows it: each HTML file given is
// opened in Debian's Chromium (playwright-core, from tests/portal's pinned
// npm packages), checked with axe-core (WCAG 2.1 A/AA and best practice:
// zero violations) and saved as a full-page screenshot beside it (.png).
// Usage: node report_check.mjs REPORT.html...
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const portal = path.join(here, '../portal');
const require = createRequire(path.join(portal, 'package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(path.join(portal, 'node_modules/axe-core/axe.min.js'), 'utf8');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  for (const file of process.argv.slice(2)) {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    await page.goto('file://' + path.resolve(file));
    await page.evaluate(axeSource);
    const result = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
    );
    const problems = result.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
    assert.deepEqual(problems, [], `axe on ${file}`);
    const shot = file.replace(/\.html$/, '.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`${file}: axe 0 violations (${result.passes.length} rules passed); screenshot ${shot}`);
    await page.close();
  }
} finally {
  await browser.close();
}
