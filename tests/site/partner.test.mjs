// A sixth partner added by a theme folder and `cit tenant create` alone, served by a running
// `cit site`; then the API goes away: pages already seen keep coming from the cache, marked
// stale, and a page never seen is a themed error page, not a stack trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'node:http';
import { AxeBuilder } from '@axe-core/playwright';
import { ROOT, WCAG, citRun, citStart, launchBrowser, stop, tempDir, themePrimary } from './helpers.mjs';

const THEME_TOML = `name = "CIT Bari"
body = "Città Metropolitana di Bari"
tagline = "Centro Innovazione e Tecnologie"
description = "Un sesto partner, aggiunto con una cartella e un comando."
hosts = ["bari.cit.localhost"]

[colors]
primary = "#5b2a86"
secondary = "#f2b705"

[contacts]
email = "cit@esempio.bari.it"

[footer]
address = "Indirizzo di esempio – 70121 Bari (BA)"
tax_code = "00000000000"
note = "Valori illustrativi."
`;
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><circle cx="50" cy="50" r="48" fill="#fff"/><rect x="30" y="30" width="40" height="40" fill="#5b2a86"/></svg>\n';

let api;
let site;
let siteBase;
let browser;
let themesDir;
const dataDir = tempDir('cit-site-partner-');

before(async () => {
  // A themes folder with the shared base and no partner yet.
  themesDir = tempDir('cit-site-themes-');
  fs.symlinkSync(path.join(ROOT, 'themes', 'base'), path.join(themesDir, 'base'));
  api = await citStart(['serve'], { CIT_DATA_DIR: dataDir, CIT_LISTEN: '127.0.0.1:0' }, [/cit API listening on (http:\/\/\S+)/]);
  const apiBase = api.matches[0][1];
  site = await citStart(['site'], {
    CIT_SITE_API_URL: apiBase,
    CIT_THEMES_DIR: themesDir,
    CIT_SITE_LISTEN: '127.0.0.1:0',
    // Ask the API again at every request, so that its absence shows at once.
    CIT_SITE_CACHE_TTL_SECS: '0',
    CIT_SITE_API_TIMEOUT_SECS: '60',
  }, [/cit sites listening on (http:\/\/\S+?)\/?\s/]);
  siteBase = site.matches[0][1].replace(/\/$/, '');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stop(site?.child);
  await stop(api?.child);
});

function getWithHost(url, host) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a sixth partner is a folder plus `cit tenant create`, with no code change and no restart', async () => {
  assert.equal((await fetch(`${siteBase}/bari/`)).status, 404, 'no such site yet');

  fs.mkdirSync(path.join(themesDir, 'bari'));
  fs.writeFileSync(path.join(themesDir, 'bari', 'theme.toml'), THEME_TOML);
  fs.writeFileSync(path.join(themesDir, 'bari', 'logo.svg'), LOGO);
  // The folder alone is not a site: the API must know the tenant.
  assert.equal((await fetch(`${siteBase}/bari/`)).status, 404);

  citRun(['tenant', 'create', 'bari', '--name', 'CIT Bari', '--domain', 'bari.cit.localhost'], { CIT_DATA_DIR: dataDir });

  const context = await browser.newContext();
  const page = await context.newPage();
  for (const p of ['/', '/servizi', '/notizie', '/eventi', '/progetti', '/community', '/contatti', '/dichiarazione-di-accessibilita']) {
    const resp = await page.goto(`${siteBase}/bari${p}`);
    assert.equal(resp.status(), 200, p);
    assert.equal(await page.locator('header img.cit-logo').first().getAttribute('src'), '/_assets/themes/bari/logo.svg');
    assert.ok(await page.locator('header img.cit-logo').first().evaluate((i) => i.naturalWidth > 0), 'logo loads');
    const bg = await page.locator('.it-header-center-wrapper').evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(bg, themePrimary(themesDir, 'bari'));
    const axe = await new AxeBuilder({ page }).withTags(WCAG).analyze();
    assert.deepEqual(axe.violations.map((v) => v.id), [], `${p}: axe violations`);
  }
  assert.match(await page.locator('.it-brand-title').first().innerText(), /CIT Bari/);
  await context.close();

  const byHost = await getWithHost(`${siteBase}/`, 'bari.cit.localhost');
  assert.equal(byHost.status, 200);
  assert.match(byHost.body, /CIT Bari/);
});

test('a partner template overrides the base one', async () => {
  fs.mkdirSync(path.join(themesDir, 'bari', 'templates'), { recursive: true });
  fs.writeFileSync(
    path.join(themesDir, 'bari', 'templates', 'topics.html'),
    '{% extends "base.html" %}{% block content %}<div class="container"><h1>Argomenti di Bari</h1></div>{% endblock %}\n',
  );
  const html = await (await fetch(`${siteBase}/bari/argomenti`)).text();
  assert.match(html, /<h1>Argomenti di Bari<\/h1>/);
});

test('with the API down, seen pages are served from cache marked stale; unseen ones get a themed error page', async () => {
  // Seen while the API is up.
  for (const p of ['/', '/servizi', '/eventi']) {
    const r = await fetch(`${siteBase}/bari${p}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-cit-stale'), null);
  }
  await stop(api.child);

  const context = await browser.newContext();
  const page = await context.newPage();
  const stale = await page.goto(`${siteBase}/bari/`);
  assert.equal(stale.status(), 200);
  assert.equal(stale.headers()['x-cit-stale'], '1');
  assert.match(stale.headers().warning, /^110 /);
  assert.equal(await page.locator('[data-cit="stale-notice"]').count(), 1, 'a visible notice');
  assert.match(await page.locator('h1').innerText(), /CIT Bari/);
  let axe = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  assert.deepEqual(axe.violations.map((v) => v.id), []);
  const events = await page.goto(`${siteBase}/bari/eventi`);
  assert.equal(events.status(), 200, 'a page whose query depends on the date is cached too');
  assert.equal(events.headers()['x-cit-stale'], '1');

  const unseen = await page.goto(`${siteBase}/bari/notizie/mai-vista`);
  assert.equal(unseen.status(), 503);
  const text = await page.locator('body').innerText();
  assert.match(text, /Servizio momentaneamente non disponibile/);
  assert.doesNotMatch(text, /panicked|stack backtrace|reqwest|Connection refused|error sending request|\.rs:\d+/i);
  assert.equal(await page.locator('header img.cit-logo').first().getAttribute('src'), '/_assets/themes/bari/logo.svg', 'themed');
  axe = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  assert.deepEqual(axe.violations.map((v) => v.id), []);
  await context.close();
});
