// The five partner sites of `cit demo` in headless Chromium: every page type of every theme
// answers 200 with the partner's logo and colours and the right breadcrumbs, and has no axe-core
// violation of WCAG 2.1 A/AA. Screenshots of each home page go to docs/screenshots/.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import {
  ROOT, PARTNERS, SCREENSHOTS, WCAG, api, citStart, launchBrowser, stop, tempDir, themePrimary,
} from './helpers.mjs';

let demo;
let apiBase;
let siteBase;
let browser;

before(async () => {
  const dataDir = tempDir('cit-site-demo-');
  demo = await citStart(['demo'], {
    CIT_DATA_DIR: dataDir,
    CIT_LISTEN: '127.0.0.1:0',
    CIT_SITE_LISTEN: '127.0.0.1:0',
    CIT_THEMES_DIR: path.join(ROOT, 'themes'),
    // A loaded CI machine can make the debug API slow; an outage is not what this file tests.
    CIT_SITE_API_TIMEOUT_SECS: '60',
  }, [/API:\s+(http:\/\/\S+)\/api\/v1\//, /sites:\s+(http:\/\/\S+?)\/\s/, /Press Ctrl-C/]);
  apiBase = demo.matches[0][1];
  siteBase = demo.matches[1][1];
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stop(demo?.child);
});

/** Slug and title of the first entry of a type, from the API. */
async function first(tenant, type, query = '') {
  const r = await api(apiBase, 'GET', `/api/v1/t/${tenant}/entries/${type}?limit=1&fields=title${query}`);
  assert.equal(r.status, 200, r.text);
  const e = r.json.data[0];
  assert.ok(e, `${tenant} has no ${type}`);
  return { slug: e.slug, title: e.data.title };
}

/** Every page type of a partner, with the breadcrumbs it must show. */
async function pagesOf(tenant) {
  const [servizio, notizia, evento, progetto, ente, documento, pillola, argomento, luogo] = await Promise.all([
    first(tenant, 'servizio'), first(tenant, 'notizia'), first(tenant, 'evento'), first(tenant, 'progetto'),
    first(tenant, 'ente'), first(tenant, 'documento'), first(tenant, 'pillola'), first(tenant, 'argomento'),
    first(tenant, 'luogo'),
  ]);
  const pages = await api(apiBase, 'GET', `/api/v1/t/${tenant}/entries/pagina?limit=100&fields=title,parent`);
  const child = pages.json.data.find((p) => p.data.parent);
  const parent = pages.json.data.find((p) => p.id === child.data.parent);
  const H = 'Home';
  return [
    { name: 'home', path: '/', crumbs: [] },
    { name: 'services', path: '/servizi', crumbs: [H, 'Servizi'] },
    { name: 'services by topic', path: `/servizi?argomento=${argomento.slug}`, crumbs: [H, 'Servizi'] },
    { name: 'service', path: `/servizi/${servizio.slug}`, crumbs: [H, 'Servizi', servizio.title] },
    { name: 'news', path: '/notizie', crumbs: [H, 'Notizie'] },
    { name: 'article', path: `/notizie/${notizia.slug}`, crumbs: [H, 'Notizie', notizia.title] },
    { name: 'events', path: '/eventi', crumbs: [H, 'Eventi'] },
    { name: 'event', path: `/eventi/${evento.slug}`, crumbs: [H, 'Eventi', evento.title] },
    { name: 'projects', path: '/progetti', crumbs: [H, 'Progetti'] },
    { name: 'project', path: `/progetti/${progetto.slug}`, crumbs: [H, 'Progetti', progetto.title] },
    { name: 'community', path: '/community', crumbs: [H, 'Community'] },
    { name: 'member body', path: `/community/${ente.slug}`, crumbs: [H, 'Community', ente.title] },
    { name: 'documents', path: '/documenti', crumbs: [H, 'Documenti'] },
    { name: 'document', path: `/documenti/${documento.slug}`, crumbs: [H, 'Documenti', documento.title] },
    { name: 'training', path: '/formazione', crumbs: [H, 'Formazione'] },
    { name: 'training piece', path: `/formazione/${pillola.slug}`, crumbs: [H, 'Formazione', pillola.title] },
    { name: 'topics', path: '/argomenti', crumbs: [H, 'Argomenti'] },
    { name: 'topic', path: `/argomenti/${argomento.slug}`, crumbs: [H, 'Argomenti', argomento.title] },
    { name: 'places', path: '/dove-siamo', crumbs: [H, 'Dove siamo'] },
    { name: 'place', path: `/dove-siamo/${luogo.slug}`, crumbs: [H, 'Dove siamo', luogo.title] },
    { name: 'contacts', path: '/contatti', crumbs: [H, 'Contatti'] },
    { name: 'search', path: '/cerca?q=servizi', crumbs: [H, 'Cerca'] },
    { name: 'static page', path: `/${parent.slug}`, crumbs: [H, parent.data.title] },
    { name: 'static sub-page', path: `/${parent.slug}/${child.slug}`, crumbs: [H, parent.data.title, child.data.title] },
    { name: 'accessibility', path: '/dichiarazione-di-accessibilita', crumbs: [H, 'Dichiarazione di accessibilità'] },
    { name: 'privacy', path: '/privacy', crumbs: [H, 'Privacy'] },
    { name: 'legal notes', path: '/note-legali', crumbs: [H, 'Note legali'] },
    { name: 'not found', path: '/pagina-che-non-esiste', crumbs: [], status: 404 },
  ];
}

/** Opens a page and checks what every page of the partner must have. */
async function checkPage(context, tenant, spec) {
  const page = await context.newPage();
  const foreign = [];
  const origin = new URL(siteBase).origin;
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:')) foreign.push(u);
  });
  const url = `${siteBase}/${tenant}${spec.path}`;
  const resp = await page.goto(url, { waitUntil: 'load' });
  const where = `${tenant} ${spec.name} (${url})`;
  if (resp.status() !== (spec.status ?? 200)) {
    // What the demo logged is the best clue (the site logs why the API failed it).
    assert.fail(`${where}: status ${resp.status()}\n--- cit demo output (end) ---\n${demo.output().slice(-3000)}`);
  }
  assert.deepEqual(foreign, [], `${where}: requests to other sites`);

  // The partner's own logo, loaded.
  const logo = page.locator('header img.cit-logo').first();
  assert.equal(await logo.getAttribute('src'), `/_assets/themes/${tenant}/logo.svg`, where);
  assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth > 0), `${where}: logo not loaded`);
  // The partner's colours: the centre header is the primary colour of theme.toml.
  const bg = await page.locator('.it-header-center-wrapper').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(bg, themePrimary(path.join(ROOT, 'themes'), tenant), `${where}: header colour`);
  // Titillium Web, from our own origin.
  const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  assert.match(font, /Titillium Web/, where);
  assert.ok(await page.evaluate(() => document.fonts.check('16px "Titillium Web"')), `${where}: font not loaded`);

  // Breadcrumbs.
  const crumbs = (await page.locator('[data-element="breadcrumb"] li').allInnerTexts()).map((t) => t.replace(/\s*\/\s*$/, '').trim());
  assert.deepEqual(crumbs, spec.crumbs, `${where}: breadcrumbs`);

  // One h1, the skip link, the structure the Italian conformity checker looks for.
  assert.equal(await page.locator('h1').count(), 1, `${where}: h1`);
  assert.equal(await page.locator('.skiplink a[href="#main-container"]').count(), 1, where);
  for (const el of ['main-navigation', 'menu', 'all-topics', 'accessibility-link', 'legal-notes', 'privacy-policy-link']) {
    assert.ok(await page.locator(`[data-element="${el}"]`).count() > 0, `${where}: data-element=${el}`);
  }

  // axe-core: no violation of WCAG 2.1 A and AA.
  const result = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  const violations = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  assert.deepEqual(violations, [], `${where}: axe violations`);
  await page.close();
  return result.passes.length;
}

for (const tenant of PARTNERS) {
  describe(`${tenant}: every page type`, () => {
    test('answers 200 with logo, colours, breadcrumbs and no WCAG 2.1 AA violation', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const specs = await pagesOf(tenant);
      let passes = 0;
      for (const spec of specs) passes += await checkPage(context, tenant, spec);
      // No cookie but the contact form's CSRF cookie: technical (HttpOnly, SameSite=Strict, session only).
      const cookies = (await context.cookies()).filter((c) => !(c.name === 'cit_csrf' && c.httpOnly && c.sameSite === 'Strict' && c.expires === -1));
      assert.deepEqual(cookies, [], 'no cookies');
      await context.close();
      console.log(`# ${tenant}: ${specs.length} pages, ${passes} axe rule passes, 0 violations`);
    });

    test('home page screenshots (desktop and 320 px) in docs/screenshots/', async () => {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await desktop.newPage();
      await page.goto(`${siteBase}/${tenant}/`, { waitUntil: 'load' });
      await page.evaluate(() => document.fonts.ready);
      await page.addStyleTag({ content: '*, *::before, *::after { transition: none !important; animation: none !important; }' });
      await page.screenshot({ path: path.join(SCREENSHOTS, `${tenant}-home.png`), fullPage: true });
      await desktop.close();

      const mobile = await browser.newContext({ viewport: { width: 320, height: 640 } });
      const small = await mobile.newPage();
      await small.goto(`${siteBase}/${tenant}/servizi/${(await first(tenant, 'servizio')).slug}`, { waitUntil: 'load' });
      const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${tenant}: a service page scrolls sideways at 320 px (${overflow}px)`);
      await small.goto(`${siteBase}/${tenant}/`, { waitUntil: 'load' });
      assert.ok(await small.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${tenant}: home scrolls sideways at 320 px`);
      await small.evaluate(() => document.fonts.ready);
      await small.addStyleTag({ content: '*, *::before, *::after { transition: none !important; animation: none !important; }' });
      await small.screenshot({ path: path.join(SCREENSHOTS, `${tenant}-home-320.png`) });
      const axe = await new AxeBuilder({ page: small }).withTags(WCAG).analyze();
      assert.deepEqual(axe.violations.map((v) => v.id), [], `${tenant} at 320 px: axe violations`);
      await mobile.close();
    });
  });
}

describe('one process, many sites', () => {
  test('the index lists the five partners and each answers by host name too', async () => {
    const index = await fetch(`${siteBase}/`);
    assert.equal(index.status, 200);
    // minijinja escapes "/" in attributes as &#x2f;, which the browser reads as "/".
    const html = (await index.text()).replaceAll('&#x2f;', '/');
    for (const t of PARTNERS) assert.ok(html.includes(`href="/${t}/"`), t);
    const { request } = await import('node:http');
    const byHost = await new Promise((resolve, reject) => {
      const u = new URL(siteBase);
      const req = request({ host: u.hostname, port: u.port, path: '/servizi', headers: { Host: 'genova.cit.localhost' } }, (res) => {
        let body = '';
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, body: body.replaceAll('&#x2f;', '/') }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(byHost.status, 200);
    assert.match(byHost.body, /CST Genova/);
    assert.match(byHost.body, /href="\/servizi\/[a-z0-9-]+"/, 'links carry no /genova prefix when addressed by host');
  });

  test('sitemap.xml, robots.txt and the Atom feed of news', async () => {
    const sitemap = await fetch(`${siteBase}/lecce/sitemap.xml`);
    assert.equal(sitemap.status, 200);
    assert.match(sitemap.headers.get('content-type'), /xml/);
    const xml = await sitemap.text();
    assert.match(xml, /<urlset/);
    assert.ok(xml.includes(`${siteBase}/lecce/servizi/`), 'services in the sitemap');
    assert.ok(xml.includes(`${siteBase}/lecce/chi-siamo/il-cit-di-lecce`), 'page tree paths in the sitemap');
    const robots = await (await fetch(`${siteBase}/lecce/robots.txt`)).text();
    assert.match(robots, /Sitemap: http:\/\/\S+\/lecce\/sitemap\.xml/);
    assert.match(robots, /Disallow: \/lecce\/anteprima\//);
    const feed = await fetch(`${siteBase}/lecce/notizie/feed.xml`);
    assert.equal(feed.status, 200);
    assert.match(feed.headers.get('content-type'), /application\/atom\+xml/);
    const atom = await feed.text();
    assert.match(atom, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom"/);
    assert.ok((atom.match(/<entry>/g) || []).length >= 3, 'news entries in the feed');
  });

  test('JSON-LD and Open Graph on service, article and event pages', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cases = [
      ['servizio', '/servizi/', 'GovernmentService'],
      ['notizia', '/notizie/', 'NewsArticle'],
      ['evento', '/eventi/', 'Event'],
    ];
    for (const [type, prefix, ldType] of cases) {
      const e = await first('brescia', type);
      await page.goto(`${siteBase}/brescia${prefix}${e.slug}`);
      const lds = await page.locator('script[type="application/ld+json"]').allTextContents();
      const types = lds.map((t) => JSON.parse(t)['@type']);
      assert.ok(types.includes('GovernmentOrganization'), `${type}: ${types}`);
      assert.ok(types.includes(ldType), `${type}: ${types}`);
      assert.equal(await page.locator('meta[property="og:title"]').getAttribute('content'), e.title);
    }
    const e = await first('brescia', 'servizio');
    await page.goto(`${siteBase}/brescia/servizi/${e.slug}`);
    const order = await page.locator('.cit-service-sections > section').evaluateAll((s) => s.map((x) => x.id));
    const expected = ['a-chi-si-rivolge', 'descrizione', 'come-fare', 'cosa-serve', 'cosa-si-ottiene', 'tempi-e-scadenze', 'accedere-al-servizio', 'quanto-costa', 'condizioni-di-servizio', 'contatti', 'argomenti'];
    assert.deepEqual(order, expected.filter((id) => order.includes(id)), 'service sections in the public-service order');
    for (const el of ['service-title', 'service-description', 'service-status', 'page-index', 'service-how-to', 'feedback']) {
      assert.ok(await page.locator(`[data-element="${el}"]`).count() > 0, `data-element=${el}`);
    }
    await context.close();
  });

  test('news are paginated with the API cursor', async () => {
    const login = await api(apiBase, 'POST', '/api/v1/auth/login', { body: { email: 'admin@cit.example', password: 'demo-cit-2026' } });
    assert.equal(login.status, 200, login.text);
    for (let i = 1; i <= 5; i++) {
      const r = await api(apiBase, 'POST', '/api/v1/t/potenza/entries/notizia', {
        token: login.json.access_token,
        body: { status: 'published', data: { title: `Notizia di prova ${i}`, summary: 'Per la paginazione.', body: 'Testo.' } },
      });
      assert.equal(r.status, 201, r.text);
    }
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${siteBase}/potenza/notizie`);
    const firstPage = await page.locator('main .card-title').allInnerTexts();
    assert.equal(firstPage.length, 6);
    await page.locator('[data-cit="next-page"]').click();
    await page.waitForLoadState('load');
    assert.match(page.url(), /cursor=/);
    const secondPage = await page.locator('main .card-title').allInnerTexts();
    assert.ok(secondPage.length >= 2, secondPage.join(', '));
    assert.deepEqual(secondPage.filter((t) => firstPage.includes(t)), [], 'no article on both pages');
    const axe = await new AxeBuilder({ page }).withTags(WCAG).analyze();
    assert.deepEqual(axe.violations.map((v) => v.id), []);
    await context.close();
  });

  test('an editor previews a draft through a preview link; the public does not see it', async () => {
    const login = await api(apiBase, 'POST', '/api/v1/auth/login', { body: { email: 'admin@cit.example', password: 'demo-cit-2026' } });
    const access = login.json.access_token;
    const token = await api(apiBase, 'POST', '/api/v1/t/avellino/tokens', { token: access, body: { name: 'anteprima sito', scopes: ['read', 'preview'] } });
    assert.equal(token.status, 201, token.text);
    const draft = await api(apiBase, 'POST', '/api/v1/t/avellino/entries/notizia', {
      token: access,
      body: { data: { title: 'Bozza in anteprima', summary: 'Non ancora pubblicata.', body: 'Testo della **bozza**.' } },
    });
    assert.equal(draft.status, 201, draft.text);
    assert.equal(draft.json.status, 'draft');

    const context = await browser.newContext();
    const page = await context.newPage();
    const resp = await page.goto(`${siteBase}/avellino/anteprima/notizia/${draft.json.id}?token=${token.json.token}`);
    assert.equal(resp.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Bozza in anteprima');
    assert.equal(await page.locator('[data-cit="preview-notice"]').count(), 1);
    assert.equal(resp.headers()['cache-control'], 'no-store');
    assert.match(resp.headers()['x-robots-tag'], /noindex/);
    const axe = await new AxeBuilder({ page }).withTags(WCAG).analyze();
    assert.deepEqual(axe.violations.map((v) => v.id), []);

    const publicPage = await page.goto(`${siteBase}/avellino/notizie/${draft.json.slug}`);
    assert.equal(publicPage.status(), 404, 'a draft is not public');
    const noToken = await page.goto(`${siteBase}/avellino/anteprima/notizia/${draft.json.id}`);
    assert.equal(noToken.status(), 403);
    const badToken = await page.goto(`${siteBase}/avellino/anteprima/notizia/${draft.json.id}?token=cit_nonvalido`);
    assert.equal(badToken.status(), 403);
    assert.match(await page.locator('h1').innerText(), /Anteprima non autorizzata/);
    await context.close();
  });
});
