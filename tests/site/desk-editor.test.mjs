// The desk's entry editor (issue 15, item 3), in headless Chromium with axe: an editor writes a
// news item with the keyboard alone, tries to publish it incomplete and finds each API field error
// next to its field (with what they typed kept and nothing published), completes and publishes it,
// and finds it on the partner site; an author has no publish button and a forged publish post is
// refused with the entry still a draft; a revision saved by someone else in between is explained
// and nothing is overwritten; a number that is not one is refused next to its field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startDemo, makeUser, signIn, assertAccessible, api } from './desk.mjs';

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

async function entryBySlug(slug) {
  const r = await api(env.apiBase, 'GET', `/api/v1/t/lecce/entries/notizia/${slug}?status=any`, { token: env.adminToken });
  return r;
}

test('an editor writes, is told what is missing, and publishes a news item with the keyboard alone', async () => {
  const editor = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, editor);
  await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/nuovo`);
  await assertAccessible(page, 'empty editor');
  // Keyboard only: focus the title, type, move with Tab, press the publish button with Enter.
  await page.focus('#f-title');
  await page.keyboard.type('Tastiera e redazione');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'f-summary', 'Tab goes to the next field');
  await page.focus('#f-slug');
  await page.keyboard.type('tastiera-e-redazione');
  await page.focus('button[value=publish]');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  // Incomplete: the API's field errors next to their fields; nothing stored.
  assert.ok(await page.$('#problem'), 'a summary of the problem');
  for (const field of ['summary', 'body']) {
    assert.ok(await page.$(`#f-${field}-error`), `an error next to ${field}`);
    assert.equal(await page.getAttribute(`#f-${field}`, 'aria-invalid'), 'true');
    assert.match(await page.getAttribute(`#f-${field}`, 'aria-describedby'), new RegExp(`f-${field}-error`));
  }
  assert.equal(await page.inputValue('#f-title'), 'Tastiera e redazione', 'what was typed is kept');
  assert.equal((await entryBySlug('tastiera-e-redazione')).status, 404, 'nothing stored');
  await assertAccessible(page, 'editor with errors');
  // The summary links to the field: follow it with the keyboard and complete the form.
  await page.focus('#problem a[href="#f-summary"]');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'f-summary');
  await page.keyboard.type('Una notizia scritta senza mouse.');
  await page.focus('#f-body');
  await page.keyboard.type('Il **desk** si usa anche solo con la tastiera.');
  await page.focus('button[value=publish]');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('main .alert'), /Contenuto pubblicato/);
  const stored = await entryBySlug('tastiera-e-redazione');
  assert.equal(stored.status, 200, stored.text);
  assert.equal(stored.json.status, 'published');
  assert.equal(stored.json.data.summary, 'Una notizia scritta senza mouse.');
  // On the partner site (its cache is 30 s: a new page is fetched at once).
  const site = await fetch(`${env.siteBase}/lecce/notizie/tastiera-e-redazione`);
  assert.equal(site.status, 200);
  assert.match(await site.text(), /Tastiera e redazione/);
  await context.close();
});

test('an author saves drafts but cannot publish, not even with a forged post', async () => {
  const author = await makeUser(env, 'lecce', 'author');
  const { context, page } = await signIn(browser, env, author);
  await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/nuovo`);
  assert.equal(await page.$('button[value=publish]'), null, 'no publish button for an author');
  await page.fill('#f-title', 'Bozza di un autore');
  await page.fill('#f-slug', 'bozza-di-un-autore');
  await Promise.all([page.waitForNavigation(), page.click('button[value=draft]')]);
  assert.match(await page.textContent('main .alert'), /Bozza salvata/);
  const draft = await entryBySlug('bozza-di-un-autore');
  assert.equal(draft.json.status, 'draft');
  // The edit form, posted with action=publish as a forged button would.
  await Promise.all([page.waitForNavigation(), page.click('a:has-text("Modifica")')]);
  const csrf = await page.inputValue('input[name=csrf]');
  const resp = await page.request.post(page.url(), {
    form: { csrf, revision: String(draft.json.revision), 'f.title': 'Pubblicata di nascosto', action: 'publish' },
  });
  assert.equal(resp.status(), 422);
  assert.match(await resp.text(), /desk-problem/);
  const after = await entryBySlug('bozza-di-un-autore');
  assert.equal(after.json.status, 'draft', 'still a draft');
  assert.equal(after.json.data.title, 'Bozza di un autore', 'nothing changed');
  await context.close();
});

test('a revision saved by someone else is explained and not overwritten; a bad number is refused', async () => {
  const editor = await makeUser(env, 'lecce', 'editor');
  const created = await api(env.apiBase, 'POST', '/api/v1/t/lecce/entries/notizia', {
    token: env.adminToken,
    body: { data: { title: 'Versione uno', reading_time: 3 }, slug: 'versione-uno' },
  });
  assert.equal(created.status, 201, created.text);
  const { context, page } = await signIn(browser, env, editor);
  await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/${created.json.id}/modifica`);
  // Someone else saves in between.
  const other = await api(env.apiBase, 'PATCH', `/api/v1/t/lecce/entries/notizia/${created.json.id}`, {
    token: env.adminToken,
    body: { data: { title: 'Versione due' }, revision: created.json.revision },
  });
  assert.equal(other.status, 200, other.text);
  await page.fill('#f-title', 'Versione mia');
  await Promise.all([page.waitForNavigation(), page.click('button[value=draft]')]);
  assert.match(await page.textContent('main'), /Qualcun altro ha salvato/);
  assert.equal(await page.inputValue('#f-title'), 'Versione mia', 'my changes are still on the page');
  await assertAccessible(page, 'editor with a conflict');
  let now = await entryBySlug('versione-uno');
  assert.equal(now.json.data.title, 'Versione due', "the other's save stands");
  // A number that is not one: refused next to its field, nothing sent.
  await page.fill('#f-reading_time', 'tre');
  await Promise.all([page.waitForNavigation(), page.click('button[value=draft]')]);
  assert.ok(await page.$('#f-reading_time-error'));
  now = await entryBySlug('versione-uno');
  assert.equal(now.json.data.reading_time, 3);
  await context.close();
});
