// The desk's media library in Chromium (issue #15 item 4): an editor uploads a photo with its
// alt text, credits and licence (with a progress bar, and the same without JavaScript), finds it
// in the grid and the list, changes its description, sees where it is used and that it cannot
// be deleted while used, then deletes it once it is not. Refused: an image without alt text and
// an empty upload (nothing stored), clearing an image's alt text, an author's delete, another
// tenant's member. Every page state is checked with axe (WCAG 2.1 A and AA) and at 320 px.
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

const adminGet = (p) => api(env.apiBase, 'GET', p, { token: env.adminToken });
const library = async (tenant = 'lecce') => (await adminGet(`/api/v1/t/${tenant}/media?limit=100`)).json.data;

/** Clicks and waits for the page that answers. */
async function go(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

const photo = () => ({ name: 'porto.png', mimeType: 'image/png', buffer: tinyPng(64, 48, [0, 102, 204]) });

async function noSidewaysScroll(page, where) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${where}: scrolls sideways by ${overflow}px at 320 px`);
}

test('an editor uploads a photo with its description, finds it, describes it, and deletes it once unused', async () => {
  const editor = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, editor);
  await page.goto(`${env.deskBase}/t/lecce/`);
  await go(page, 'nav.desk-menu a:has-text("Media")');
  assert.match(page.url(), /\/t\/lecce\/media$/);
  assert.equal(await page.getAttribute('nav.desk-menu a:has-text("Media")', 'aria-current'), 'page');
  await assertAccessible(page, 'the library');

  // Without alt text an image is refused next to the field, and nothing is stored.
  const before = (await library()).length;
  await page.setInputFiles('#f-file', photo());
  await page.fill('#f-credits', 'Ufficio stampa');
  // With JavaScript the form is sent in the background: the answer takes the page's place.
  await page.click('button:has-text("Carica")');
  await page.waitForSelector('#f-alt-error');
  assert.match(await page.textContent('#f-alt-error'), /testo alternativo/i);
  assert.equal(await page.getAttribute('#f-alt', 'aria-invalid'), 'true');
  assert.equal(await page.inputValue('#f-credits'), 'Ufficio stampa', 'what was typed is kept');
  assert.equal((await library()).length, before, 'nothing uploaded');
  await assertAccessible(page, 'the library with an upload refused');

  // With JavaScript: the progress bar shows, then the new file's page.
  await page.setInputFiles('#f-file', photo());
  await page.fill('#f-alt', 'Il porto di Lecce al tramonto');
  await page.fill('#f-title', 'Porto');
  await page.fill('#f-licence', 'CC BY 4.0');
  await page.click('button:has-text("Carica")');
  await page.waitForSelector('h1:has-text("Porto")');
  assert.match(await page.textContent('main .alert'), /Caricato «Porto»/);
  const id = page.url().match(/\/media\/([0-9a-f-]{36})$/)[1];
  const stored = await adminGet(`/api/v1/t/lecce/media/${id}`);
  assert.equal(stored.status, 200);
  assert.equal(stored.json.alt, 'Il porto di Lecce al tramonto');
  assert.equal(stored.json.credits, 'Ufficio stampa');
  assert.equal(stored.json.licence, 'CC BY 4.0');
  assert.equal((await library()).length, before + 1);
  await page.waitForFunction(() => {
    const img = document.querySelector('.desk-media-preview img');
    return img && img.complete;
  });
  const shown = await page.$eval('.desk-media-preview img', (img) => ({ w: img.naturalWidth, src: img.getAttribute('src'), alt: img.alt }));
  assert.ok(shown.w > 0, 'the picture loads through the desk');
  assert.equal(shown.alt, 'Il porto di Lecce al tramonto');
  assert.doesNotMatch(shown.src, /token|eyJ/, 'no token in the picture address');
  assert.match(await page.textContent('main'), /Nessun contenuto usa questo file/);
  await assertAccessible(page, 'a file');

  // The grid and the list.
  await page.goto(`${env.deskBase}/t/lecce/media`);
  const card = page.locator('.desk-media-card', { hasText: 'Porto' });
  assert.equal(await card.count(), 1);
  assert.ok(await card.locator('img').evaluate((img) => img.decode().then(() => img.naturalWidth > 0, () => false)), 'the thumbnail loads');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-media.png'), fullPage: true });
  await go(page, 'a:has-text("elenco")');
  const row = page.locator('table tr', { hasText: 'Porto' });
  assert.match(await row.textContent(), /image\/png/);
  assert.match(await row.textContent(), /Il porto di Lecce al tramonto/);
  await assertAccessible(page, 'the library as a list');

  // A new description; an image cannot lose its alt text (the API's error next to the field).
  await page.goto(`${env.deskBase}/t/lecce/media/${id}`);
  await page.fill('#f-alt', '');
  await page.fill('#f-title', 'Porto di Lecce');
  await go(page, 'button:has-text("Salva la descrizione")');
  assert.ok(await page.$('#f-alt-error'), 'the refusal is next to the alt field');
  assert.equal(await page.inputValue('#f-title'), 'Porto di Lecce', 'what was typed is kept');
  assert.equal((await adminGet(`/api/v1/t/lecce/media/${id}`)).json.title, 'Porto', 'nothing changed');
  await assertAccessible(page, 'a description refused');
  await page.fill('#f-alt', 'Il porto di Lecce con le barche');
  await page.fill('#f-licence', '');
  await go(page, 'button:has-text("Salva la descrizione")');
  assert.match(await page.textContent('main .alert'), /Descrizione salvata/);
  const described = (await adminGet(`/api/v1/t/lecce/media/${id}`)).json;
  assert.equal(described.title, 'Porto di Lecce');
  assert.equal(described.alt, 'Il porto di Lecce con le barche');
  assert.equal(described.licence, null, 'an emptied licence is cleared');

  // Used by a news item: listed with a link, and not offered for deletion.
  const news = await api(env.apiBase, 'POST', '/api/v1/t/lecce/entries/notizia', {
    token: env.adminToken,
    body: { data: { title: 'Il nuovo porto', image: id }, slug: 'nuovo-porto' },
  });
  assert.equal(news.status, 201, news.text);
  await page.reload();
  const use = page.locator('section[aria-labelledby="usi"] a', { hasText: 'Il nuovo porto' });
  assert.equal(await use.count(), 1, 'the news item is listed');
  assert.match(await use.getAttribute('href'), new RegExp(`/t/lecce/contenuti/notizia/${news.json.id}$`));
  assert.equal(await page.locator('a:has-text("Elimina il file")').count(), 0);
  assert.match(await page.textContent('main'), /non si può eliminare finché un contenuto lo usa/);
  await page.goto(`${env.deskBase}/t/lecce/media/${id}/elimina`);
  assert.equal(await page.locator('button:has-text("Elimina definitivamente")').count(), 0);
  assert.match(await page.textContent('main'), /Il nuovo porto/);
  await assertAccessible(page, 'delete refused while in use');

  // Once the news item no longer uses it: asked, then deleted.
  const patched = await api(env.apiBase, 'PATCH', `/api/v1/t/lecce/entries/notizia/${news.json.id}`, {
    token: env.adminToken,
    body: { data: { image: null }, revision: news.json.revision },
  });
  assert.equal(patched.status, 200, patched.text);
  await page.goto(`${env.deskBase}/t/lecce/media/${id}`);
  await go(page, 'a:has-text("Elimina il file")');
  await assertAccessible(page, 'the delete confirmation');
  page.once('dialog', (d) => d.accept());
  await go(page, 'button:has-text("Elimina definitivamente")');
  assert.match(page.url(), /\/t\/lecce\/media$/);
  assert.match(await page.textContent('main .alert'), /Eliminato «Porto di Lecce»/);
  assert.equal((await adminGet(`/api/v1/t/lecce/media/${id}`)).status, 404);
  await context.close();
});

test('without JavaScript the same upload works, and an empty one is refused', async () => {
  const editor = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, editor, { javaScriptEnabled: false });
  await page.goto(`${env.deskBase}/t/lecce/media`);
  const before = (await library()).length;
  await go(page, 'button:has-text("Carica")');
  assert.match(await page.textContent('#f-file-error'), /Scegli un file/);
  assert.equal((await library()).length, before);
  await page.setInputFiles('#f-file', { name: 'bando.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n') });
  await page.fill('#f-title', 'Bando 2027');
  await go(page, 'button:has-text("Carica")');
  assert.match(await page.textContent('h1'), /Bando 2027/);
  assert.equal((await library()).length, before + 1);
  // A file whose bytes are not what its name says: the API's refusal, next to the field.
  await page.goto(`${env.deskBase}/t/lecce/media`);
  await page.setInputFiles('#f-file', { name: 'finto.pdf', mimeType: 'application/pdf', buffer: Buffer.from('<html><script>alert(1)</script></html>') });
  await go(page, 'button:has-text("Carica")');
  assert.ok(await page.$('#f-file-error'), 'the refusal is next to the file field');
  assert.equal((await library()).length, before + 1, 'nothing more stored');
  await context.close();
});

test('an author uploads but cannot delete; another tenant sees nothing; the pages fit 320 px', async () => {
  const up = await api(env.apiBase, 'GET', '/api/v1/t/lecce/media?limit=1', { token: env.adminToken });
  const author = await makeUser(env, 'lecce', 'author');
  const { context, page } = await signIn(browser, env, author);
  await page.goto(`${env.deskBase}/t/lecce/media`);
  assert.equal(await page.locator('nav.desk-menu a:has-text("Media")').count(), 1);
  const some = up.json.data[0];
  await page.goto(`${env.deskBase}/t/lecce/media/${some.id}`);
  assert.equal(await page.locator('section[aria-labelledby="elimina"]').count(), 0, 'no delete for an author');
  const refused = await page.goto(`${env.deskBase}/t/lecce/media/${some.id}/elimina`);
  assert.equal(refused.status(), 403);
  const csrf = await page.evaluate(() => fetch('/t/lecce/media').then((r) => r.text()).then((t) => t.match(/name="csrf" value="([^"]+)"/)[1]));
  const forged = await page.evaluate(async ([id, token]) => {
    const r = await fetch(`/t/lecce/media/${id}/elimina`, { method: 'POST', body: new URLSearchParams({ csrf: token }), redirect: 'manual' });
    return r.status;
  }, [some.id, csrf]);
  assert.equal(forged, 403);
  assert.equal((await adminGet(`/api/v1/t/lecce/media/${some.id}`)).status, 200, 'still there');
  await context.close();

  // A member of another tenant: the library and the file of Lecce are refused.
  const outsider = await makeUser(env, 'genova', 'editor');
  const other = await signIn(browser, env, outsider);
  assert.equal((await other.page.goto(`${env.deskBase}/t/lecce/media`)).status(), 403);
  assert.equal((await other.page.goto(`${env.deskBase}/t/lecce/media/${some.id}/file`)).status(), 403);
  const theirs = await other.page.goto(`${env.deskBase}/t/genova/media/${some.id}/file`);
  assert.equal(theirs.status(), 404, 'not under their own tenant either');
  await other.context.close();

  // Without a session: to the login page.
  const anon = await browser.newContext();
  const p = await anon.newPage();
  await p.goto(`${env.deskBase}/t/lecce/media/${some.id}/file`);
  assert.match(p.url(), /\/login/);
  await anon.close();

  // Small screens.
  const editor = await makeUser(env, 'lecce', 'editor');
  const small = await signIn(browser, env, editor, { width: 320, height: 800 });
  for (const where of ['media', 'media?vista=elenco', `media/${some.id}`]) {
    await small.page.goto(`${env.deskBase}/t/lecce/${where}`);
    await noSidewaysScroll(small.page, where);
    await assertAccessible(small.page, `${where} at 320 px`);
  }
  await small.context.close();
});
