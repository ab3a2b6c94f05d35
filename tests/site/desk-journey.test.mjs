// The desk's main editorial journey (issue 15), in headless Chromium with axe, on the embedded
// SQLite or, with CIT_TEST_DATABASE_URL, on a fresh PostgreSQL database: an editor writes a news
// item with an uploaded photo (refused without its alt text, nothing stored) and a topic found
// with the picker's search, saves a draft, is told what is missing when publishing it, completes
// and schedules it, and finds it on the partner site once the scheduler has published it; an
// editor restores an older revision; the Markdown preview works with and without JavaScript; an
// entry is withdrawn, archived and brought back; a translation is written beside its original;
// half a geopoint is refused next to its field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SCREENSHOTS } from './helpers.mjs';
import { launchBrowser, startDemo, makeUser, signIn, assertAccessible, api, tinyPng } from './desk.mjs';

let env;
let browser;

before(async () => {
  env = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (env) await env.stop();
});

const adminGet = (path) => api(env.apiBase, 'GET', path, { token: env.adminToken });
const entryBySlug = (type, slug) => adminGet(`/api/v1/t/lecce/entries/${type}/${slug}?status=any`);
const mediaCount = async () => (await adminGet('/api/v1/t/lecce/media?limit=100')).json.data.length;

/** Clicks and waits for the page that answers. */
async function go(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

/** `datetime-local` text (UTC, to the second) `seconds` from now. */
function utcInput(seconds) {
  return new Date(Date.now() + seconds * 1000).toISOString().slice(0, 19);
}

test('an editor writes a news item with a photo and a topic, schedules it, and finds it on the site', async () => {
  const editor = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, editor);
  await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/nuovo`);
  await page.fill('#f-title', 'Nuovo sportello digitale');
  await page.fill('#f-slug', 'nuovo-sportello-digitale');
  // The topic picker: search, then choose what it found. Nothing is saved by searching.
  await page.fill('#f-argomenti-q', 'Pagamenti');
  await go(page, 'button[value="cerca.argomenti"]');
  assert.equal(await page.inputValue('#f-title'), 'Nuovo sportello digitale', 'what was typed is kept');
  const found = page.getByLabel('Pagamenti (PagoPA)');
  assert.equal(await found.count(), 1, 'the search found the topic');
  assert.equal((await entryBySlug('notizia', 'nuovo-sportello-digitale')).status, 404, 'a search saves nothing');
  await assertAccessible(page, 'editor after a search');
  // Bootstrap Italia draws the check box on its label: click it, as a user does.
  await page.click('label[for="' + (await found.getAttribute('id')) + '"]');
  assert.ok(await found.isChecked());
  // A photo without its alt text: refused next to the picker, nothing uploaded or stored.
  const before = await mediaCount();
  const png = { name: 'sportello.png', mimeType: 'image/png', buffer: tinyPng(8, 6) };
  await page.setInputFiles('#f-image-file', png);
  await go(page, 'button[value=draft]');
  assert.ok(await page.$('#f-image-error'), 'an error next to the image picker');
  assert.match(await page.textContent('#problem'), /testo alternativo/i);
  assert.equal(await mediaCount(), before, 'nothing uploaded');
  assert.equal((await entryBySlug('notizia', 'nuovo-sportello-digitale')).status, 404, 'nothing stored');
  assert.ok(await page.getByLabel('Pagamenti (PagoPA)').isChecked(), 'the chosen topic is kept');
  await assertAccessible(page, 'editor with a missing alt text');
  // With the alt text: the photo goes to the library and the draft points to it.
  await page.setInputFiles('#f-image-file', png);
  await page.fill('#f-image-alt', 'Lo sportello digitale del CIT di Lecce');
  await go(page, 'button[value=draft]');
  assert.match(await page.textContent('main .alert'), /Bozza salvata/);
  let stored = await entryBySlug('notizia', 'nuovo-sportello-digitale');
  assert.equal(stored.json.status, 'draft');
  assert.equal(stored.json.data.argomenti.length, 1);
  const media = await adminGet(`/api/v1/t/lecce/media/${stored.json.data.image}`);
  assert.equal(media.status, 200, 'the draft points to the uploaded photo');
  assert.equal(media.json.alt, 'Lo sportello digitale del CIT di Lecce');
  assert.equal(await mediaCount(), before + 1);
  // Publishing it incomplete: the API's errors next to their fields, still a draft.
  await go(page, 'a:has-text("Modifica")');
  assert.ok(await page.getByLabel('Pagamenti (PagoPA)').isChecked(), 'the topic is shown chosen');
  await go(page, 'button[value=publish]');
  for (const field of ['summary', 'body']) assert.ok(await page.$(`#f-${field}-error`), `an error next to ${field}`);
  stored = await entryBySlug('notizia', 'nuovo-sportello-digitale');
  assert.equal(stored.json.status, 'draft', 'not published');
  await assertAccessible(page, 'editor refused on publishing');
  // Completed and scheduled a few seconds ahead.
  await page.fill('#f-summary', 'Apre lo sportello per i servizi digitali dei Comuni.');
  await page.fill('#f-body', 'Lo **sportello** aiuta i Comuni con SPID e pagoPA.');
  await page.fill('#f-publish_at', utcInput(12));
  await go(page, 'button[value=schedule]');
  assert.match(await page.textContent('main .alert'), /Pubblicazione programmata/);
  stored = await entryBySlug('notizia', 'nuovo-sportello-digitale');
  assert.equal(stored.json.status, 'draft');
  assert.ok(stored.json.publish_at, 'a publication time');
  assert.match(await page.textContent('main'), /Programmato/);
  await assertAccessible(page, 'a scheduled entry');
  const entryPage = page.url();
  await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/${stored.json.id}/modifica`);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-editor.png'), fullPage: true });
  await page.goto(entryPage);
  // The scheduler publishes it; then the partner site shows it.
  const deadline = Date.now() + 60_000;
  while (stored.json.status !== 'published' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    stored = await entryBySlug('notizia', 'nuovo-sportello-digitale');
  }
  assert.equal(stored.json.status, 'published', 'published by the scheduler');
  const site = await fetch(`${env.siteBase}/lecce/notizie/nuovo-sportello-digitale`);
  assert.equal(site.status, 200);
  const html = await site.text();
  assert.match(html, /Nuovo sportello digitale/);
  assert.match(html, /Pagamenti \(PagoPA\)/, 'the topic is on the page');
  await page.goto(entryPage);
  assert.ok(await page.$('a:has-text("Vedi sul sito")'), 'the entry page links to the site');
  await context.close();
});

test('an editor restores an older revision after reading what it changes', async () => {
  const created = await api(env.apiBase, 'POST', '/api/v1/t/lecce/entries/notizia', {
    token: env.adminToken,
    body: { data: { title: 'Prima versione del bando' }, slug: 'bando-revisioni' },
  });
  assert.equal(created.status, 201, created.text);
  const changed = await api(env.apiBase, 'PATCH', `/api/v1/t/lecce/entries/notizia/${created.json.id}`, {
    token: env.adminToken,
    body: { data: { title: 'Seconda versione del bando' }, revision: created.json.revision },
  });
  assert.equal(changed.status, 200, changed.text);
  const editor = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, editor);
  page.on('dialog', (d) => d.accept());
  await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/${created.json.id}`);
  await go(page, 'a:has-text("Revisioni")');
  assert.equal(await page.locator('tbody tr').count(), 2);
  await assertAccessible(page, 'revisions');
  await go(page, 'a:has-text("Revisione 1")');
  const diff = await page.textContent('.desk-diff');
  assert.match(diff, /Seconda versione del bando/);
  assert.match(diff, /Prima versione del bando/);
  await assertAccessible(page, 'a revision compared with now');
  await go(page, 'button:has-text("Ripristina la revisione 1")');
  assert.match(await page.textContent('main .alert'), /Revisione 1 ripristinata/);
  const now = await entryBySlug('notizia', 'bando-revisioni');
  assert.equal(now.json.data.title, 'Prima versione del bando');
  assert.equal(now.json.revision, 3, 'restored as a new revision');
  // A restore posted without the form's CSRF token is refused.
  const forged = await page.request.post(`${env.deskBase}/t/lecce/contenuti/notizia/${created.json.id}/revisioni/2/ripristina`, {
    form: { csrf: 'wrong' },
  });
  assert.equal(forged.status(), 403);
  assert.equal((await entryBySlug('notizia', 'bando-revisioni')).json.revision, 3, 'nothing restored');
  await context.close();
});

test('the Markdown preview works with and without JavaScript, and saves nothing', async () => {
  const editor = await makeUser(env, 'lecce', 'editor');
  for (const javaScriptEnabled of [true, false]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'it-IT', javaScriptEnabled });
    const page = await context.newPage();
    await page.goto(`${env.deskBase}/login`);
    await page.fill('#email', editor.email);
    await page.fill('#password', editor.password);
    await go(page, 'button[type=submit]');
    await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/nuovo`);
    await page.fill('#f-title', 'Anteprima');
    await page.fill('#f-body', 'Testo **forte** e <script>window.bad = 1</script>');
    const url = page.url();
    if (javaScriptEnabled) {
      await page.click('button[value=anteprima]');
      await page.waitForSelector('#f-body-preview strong');
      assert.equal(page.url(), url, 'htmx: no new page');
    } else {
      await go(page, 'button[value=anteprima]');
      assert.equal(await page.inputValue('#f-title'), 'Anteprima', 'what was typed is kept');
    }
    assert.equal(await page.textContent('#f-body-preview strong'), 'forte');
    assert.equal(await page.$('#f-body-preview script'), null, 'the preview is sanitised');
    // axe runs in the page's JavaScript: only where it is on (the markup is the same).
    if (javaScriptEnabled) await assertAccessible(page, 'editor with a preview');
    await context.close();
  }
  assert.equal((await adminGet('/api/v1/t/lecce/entries/notizia?status=any&filter[title][eq]=Anteprima')).json.data.length, 0);
});

test('an entry is withdrawn, archived and brought back; an author has none of it', async () => {
  const created = await api(env.apiBase, 'POST', '/api/v1/t/lecce/entries/notizia', {
    token: env.adminToken,
    body: {
      data: { title: 'Chiusura uffici', summary: 'Gli uffici chiudono il 24.', body: 'Chiusi il **24**.' },
      slug: 'chiusura-uffici',
      status: 'published',
    },
  });
  assert.equal(created.status, 201, created.text);
  const editor = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, editor);
  page.on('dialog', (d) => d.accept());
  const href = `${env.deskBase}/t/lecce/contenuti/notizia/${created.json.id}`;
  await page.goto(href);
  await assertAccessible(page, 'a published entry');
  await go(page, 'button:has-text("Ritira dal sito")');
  assert.match(await page.textContent('main .alert'), /ritirato/);
  assert.equal((await entryBySlug('notizia', 'chiusura-uffici')).json.status, 'draft');
  await go(page, 'button:has-text("Archivia")');
  assert.equal((await entryBySlug('notizia', 'chiusura-uffici')).json.status, 'archived');
  await go(page, 'button:has-text("Riporta in bozza")');
  assert.equal((await entryBySlug('notizia', 'chiusura-uffici')).json.status, 'draft');
  await context.close();
  // An author sees no such buttons, and a forged post is refused.
  const author = await makeUser(env, 'lecce', 'author');
  const signed = await signIn(browser, env, author);
  await signed.page.goto(href);
  assert.equal(await signed.page.$('button:has-text("Archivia")'), null);
  const csrf = await signed.page.inputValue('input[name=csrf]');
  const forged = await signed.page.request.post(`${href}/stato`, { form: { csrf, stato: 'published', revision: '1' } });
  assert.equal(forged.status(), 403);
  assert.equal((await entryBySlug('notizia', 'chiusura-uffici')).json.status, 'draft', 'nothing changed');
  await signed.context.close();
});

test('a translation is written beside its original', async () => {
  const locales = await api(env.apiBase, 'PATCH', '/api/v1/tenants/lecce', {
    token: env.adminToken,
    body: { locales: ['it', 'en'] },
  });
  assert.equal(locales.status, 200, locales.text);
  const created = await api(env.apiBase, 'POST', '/api/v1/t/lecce/entries/notizia', {
    token: env.adminToken,
    body: { data: { title: 'Sportello per le imprese', summary: 'Un aiuto alle imprese.' }, slug: 'sportello-imprese' },
  });
  assert.equal(created.status, 201, created.text);
  const editor = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, editor);
  await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/${created.json.id}`);
  await go(page, 'a:has-text("Traduci in en")');
  assert.match(await page.textContent('.desk-field-string .desk-source'), /Sportello per le imprese/, 'the original beside');
  await assertAccessible(page, 'a translation beside its original');
  await page.fill('#f-title', 'Business help desk');
  await page.fill('#f-summary', 'Help for businesses.');
  await go(page, 'button[value=draft]');
  assert.match(await page.textContent('main .alert'), /Bozza salvata/);
  const original = await adminGet(`/api/v1/t/lecce/entries/notizia/${created.json.id}?status=any`);
  const english = (original.json.translations || []).find((t) => t.locale === 'en');
  assert.ok(english, `the original knows its translation: ${original.text}`);
  const stored = await adminGet(`/api/v1/t/lecce/entries/notizia/${english.id}?status=any`);
  assert.equal(stored.json.data.title, 'Business help desk');
  assert.equal(stored.json.translation_group, original.json.translation_group);
  await context.close();
});

test('half a geopoint is refused next to its field; a whole one is saved', async () => {
  const editor = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, editor);
  await page.goto(`${env.deskBase}/t/lecce/contenuti/luogo/nuovo`);
  await page.fill('#f-title', 'Biblioteca di quartiere');
  await page.fill('#f-slug', 'biblioteca-quartiere');
  const geo = await page.$('fieldset.desk-fieldset input[name$=".lat"]');
  assert.ok(geo, 'the luogo type has a geopoint');
  const name = (await geo.getAttribute('name')).replace(/^f\./, '').replace(/\.lat$/, '');
  await page.fill(`#f-${name}-lat`, '40,3515');
  await go(page, 'button[value=draft]');
  assert.ok(await page.$(`#f-${name}-error`), 'an error next to the geopoint');
  assert.equal((await entryBySlug('luogo', 'biblioteca-quartiere')).status, 404, 'nothing stored');
  await assertAccessible(page, 'editor with half a geopoint');
  await page.fill(`#f-${name}-lon`, '18.1718');
  await go(page, 'button[value=draft]');
  const stored = await entryBySlug('luogo', 'biblioteca-quartiere');
  assert.equal(stored.status, 200, stored.text);
  assert.deepEqual(stored.json.data[name], { lat: 40.3515, lon: 18.1718 });
  await context.close();
});

test('an editor previews a draft as the partner site shows it, with no token in any address', async () => {
  const draft = await api(env.apiBase, 'POST', '/api/v1/t/lecce/entries/notizia', {
    token: env.adminToken,
    body: { data: { title: 'Bozza da vedere sul sito', summary: 'Non ancora pubblicata.', body: 'Il testo **in anteprima**.' }, slug: 'bozza-anteprima' },
  });
  assert.equal(draft.status, 201, draft.text);
  const editor = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, editor);
  const addresses = [];
  const sheets = [];
  page.on('request', (r) => addresses.push(r.url()));
  page.on('response', (r) => {
    if (r.request().resourceType() === 'stylesheet' && r.status() === 200) sheets.push(r.url());
  });
  await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/${draft.json.id}`);
  await go(page, 'a:has-text("Anteprima sul sito")');
  assert.match(page.url(), new RegExp(`/t/lecce/contenuti/notizia/${draft.json.id}/anteprima$`));
  assert.equal(await page.locator('h1').innerText(), 'Bozza da vedere sul sito');
  assert.equal(await page.locator('[data-cit="preview-notice"]').count(), 1, 'the site says it is a preview');
  // The theme's styles came from the site.
  const fromSite = sheets.filter((u) => u.startsWith(new URL(env.siteBase).origin));
  assert.ok(fromSite.length >= 2, `the site's style sheets loaded: ${sheets.join(', ')}`);
  assert.match(await page.evaluate(() => getComputedStyle(document.body).fontFamily), /Titillium/, 'in the theme');
  for (const a of addresses) assert.doesNotMatch(a, /token=|eyJ|cit_/, `no token in ${a}`);
  await assertAccessible(page, 'the preview on the site');
  assert.equal((await fetch(`${env.siteBase}/lecce/notizie/bozza-anteprima`)).status, 404, 'still not on the site');
  await context.close();

  // A member of another tenant gets nothing of it.
  const outsider = await makeUser(env, 'genova', 'editor');
  const other = await signIn(browser, env, outsider);
  const refused = await other.page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/${draft.json.id}/anteprima`);
  assert.equal(refused.status(), 403);
  const mine = await other.page.goto(`${env.deskBase}/t/genova/contenuti/notizia/${draft.json.id}/anteprima`);
  assert.equal(mine.status(), 404);
  assert.doesNotMatch(await other.page.content(), /Bozza da vedere sul sito/);
  await other.context.close();
});
