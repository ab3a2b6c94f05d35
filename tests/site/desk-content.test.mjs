// The desk's content lists and entry pages (issue 15, item 3, first part), in headless Chromium
// with axe: an editor opens the content types, the news list, searches it, filters it by status
// and pages through it with the API's cursor, then opens an entry and reads its fields with the
// rich text as the API renders it; a member without writing rights and another tenant's entry
// are refused. Every page seen has no axe violation. Screenshots of the dashboard, the list and
// an entry go to docs/screenshots/desk-*.png.
import { test, before, after } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { SCREENSHOTS } from './helpers.mjs';
import assert from 'node:assert/strict';
import { launchBrowser, startDemo, makeUser, signIn, assertAccessible, api } from './desk.mjs';

let env;
let browser;
let editor;

before(async () => {
  env = await startDemo();
  browser = await launchBrowser();
  editor = await makeUser(env, 'lecce', 'editor');
  // 22 drafts with a word of their own, so that the list has a second page and a search to find.
  for (let i = 1; i <= 22; i += 1) {
    const r = await api(env.apiBase, 'POST', '/api/v1/t/lecce/entries/notizia', {
      token: env.adminToken,
      body: { data: { title: `Bozza girasole ${String(i).padStart(2, '0')}` } },
    });
    assert.equal(r.status, 201, r.text);
  }
});

after(async () => {
  if (browser) await browser.close();
  if (env) await env.stop();
});

test('an editor lists, searches, filters and pages through the news, then reads one', async () => {
  const { context, page } = await signIn(browser, env, editor);
  await Promise.all([page.waitForNavigation(), page.click('#desk-menu a[href="/t/lecce/contenuti"]')]);
  assert.equal(await page.textContent('h1'), 'Contenuti');
  await assertAccessible(page, 'content types');
  await Promise.all([page.waitForNavigation(), page.click('a[href="/t/lecce/contenuti/notizia"]')]);
  assert.equal(await page.textContent('h1'), 'Notizie');
  await assertAccessible(page, 'news list');
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.goto(`${env.deskBase}/t/lecce/`);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-dashboard.png'), fullPage: true });
  await page.goBack();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-entry-list.png'), fullPage: true });

  // Search: only the drafts with that word, 20 on the first page, then the 2 left.
  await page.fill('#f-q', 'girasole');
  await page.selectOption('#f-ordina', 'titolo');
  await Promise.all([page.waitForNavigation(), page.click('.desk-filters button')]);
  let titles = await page.$$eval('tbody td:first-child a', (as) => as.map((a) => a.textContent));
  assert.equal(titles.length, 20);
  assert.ok(titles.every((t) => t.includes('girasole')), titles.join());
  assert.equal(titles[0], 'Bozza girasole 01', 'sorted by title');
  await Promise.all([page.waitForNavigation(), page.click('a.page-link:has-text("Pagina successiva")')]);
  titles = await page.$$eval('tbody td:first-child a', (as) => as.map((a) => a.textContent));
  assert.deepEqual(titles, ['Bozza girasole 21', 'Bozza girasole 22'], 'the second page, with the filters kept');
  assert.equal(await page.inputValue('#f-q'), 'girasole');
  assert.equal(await page.$('a.page-link:has-text("Pagina successiva")'), null, 'no third page');
  await assertAccessible(page, 'news list, second page');

  // Status filter: the published ones are not drafts.
  await page.fill('#f-q', '');
  await page.selectOption('#f-stato', 'published');
  await Promise.all([page.waitForNavigation(), page.click('.desk-filters button')]);
  const badges = await page.$$eval('tbody .desk-badge', (bs) => bs.map((b) => b.textContent));
  assert.ok(badges.length > 0 && badges.every((b) => b === 'Pubblicato'), badges.join());

  // An entry: its fields, the body as the API rendered it (Markdown → HTML).
  await Promise.all([page.waitForNavigation(), page.click('tbody td:first-child a >> nth=0')]);
  assert.ok(await page.$('.desk-preview p'), 'the rich text is shown rendered');
  assert.match(await page.textContent('.desk-fields'), /Titolo/);
  assert.match(await page.textContent('main'), /Pubblicato/);
  await assertAccessible(page, 'entry page');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-entry.png'), fullPage: true });
  await context.close();
});

test("a member cannot open the content pages, and another tenant's entry is not found", async () => {
  const member = await makeUser(env, 'lecce', 'member');
  const { context, page } = await signIn(browser, env, member);
  assert.equal(await page.$('#desk-menu a[href="/t/lecce/contenuti"]'), null, 'no content menu item for a member');
  const resp = await page.goto(`${env.deskBase}/t/lecce/contenuti/notizia`);
  assert.equal(resp.status(), 403);
  await context.close();

  const genova = await api(env.apiBase, 'GET', '/api/v1/t/genova/entries/notizia?limit=1', { token: env.adminToken });
  const foreign = genova.json.data[0].id;
  const ed = await signIn(browser, env, editor);
  const own = await ed.page.goto(`${env.deskBase}/t/lecce/contenuti/notizia/${foreign}`);
  assert.equal(own.status(), 404, "genova's entry through lecce's desk");
  assert.doesNotMatch(await ed.page.content(), new RegExp(genova.json.data[0].data.title));
  await assertAccessible(ed.page, 'not found page');
  await ed.context.close();
});
