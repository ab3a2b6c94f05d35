// Surveys in the desk, in Chromium (issue #14): an operator opens the demo survey, invites every
// body with one button (each once: a second press invites nobody), sees who has answered as the
// bodies answer through their links, reads the results with their charts and tables, downloads
// the answers, and compares the bodies' maturity profiles side by side; an author has no
// surveys, and another tenant's operator none of Lecce's. axe on each page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startDemo, makeUser, signIn, assertAccessible, api } from './desk.mjs';

let env;
let browser;

before(async () => {
  env = await startDemo({});
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (env) await env.stop();
});

async function go(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function answer(slug, ente, answers) {
  const list = await api(env.apiBase, 'GET', `/api/v1/t/lecce/surveys/${slug}/invitations`, { token: env.adminToken });
  const link = list.json.data.find((r) => r.ente === ente).link;
  const res = await api(env.apiBase, 'PUT', `/api/v1/t/lecce/surveys/${slug}/invitations/by-secret/${link.split('/').pop()}`, { body: { answers, send: true } });
  assert.equal(res.status, 200, res.text);
}

test('an operator invites the bodies, follows the answers, reads the results and the profiles side by side', async () => {
  const enti = await api(env.apiBase, 'GET', '/api/v1/t/lecce/entries/ente?limit=100');
  const published = enti.json.data.length;
  assert.ok(published >= 2);
  const operator = await makeUser(env, 'lecce', 'operator', 'Operatore Questionari');
  const { page } = await signIn(browser, env, operator);
  await page.goto(`${env.deskBase}/t/lecce/`);
  await go(page, 'nav.desk-menu a:has-text("Questionari")');
  await assertAccessible(page, 'the surveys');
  await go(page, 'a:has-text("Rilevazione dei fabbisogni digitali")');
  assert.equal((await page.textContent('.desk-survey-invited')).trim(), '0');
  await go(page, 'button:has-text("Invita tutti gli enti")');
  assert.match(await page.textContent('main .alert'), new RegExp(`Enti invitati ora: ${published}; già invitati prima: 0`));
  assert.equal((await page.textContent('.desk-survey-invited')).trim(), String(published));
  await go(page, 'button:has-text("Invita tutti gli enti")');
  assert.match(await page.textContent('main .alert'), new RegExp(`Enti invitati ora: 0; già invitati prima: ${published}`));

  const [first, second] = enti.json.data.map((e) => e.slug);
  const needs = { pec: 'si', caselle: 3, servizi: ['pagopa', 'sito'], soddisfazione: 4, aree: { 'servizi-online': 3, dati: 2, sicurezza: 4, competenze: 1 } };
  await answer('fabbisogni-digitali', first, needs);
  await answer('fabbisogni-digitali', second, { ...needs, pec: 'no', caselle: undefined, soddisfazione: 2 });
  await page.reload();
  assert.equal((await page.textContent('.desk-survey-sent')).trim(), '2');
  const pec = page.locator('section.desk-survey-question', { hasText: "L'ente usa la posta elettronica certificata" });
  assert.match(await pec.locator('tr', { hasText: 'Sì' }).textContent(), /1\s*50 %/);
  assert.equal(await pec.locator('svg[role="img"][data-chart="bar"]').count(), 1);
  assert.equal(await page.locator('.desk-survey-invitations tr', { hasText: 'Inviate' }).count(), 2);
  await assertAccessible(page, 'a survey with its results');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("Scarica le risposte (CSV)")')]);
  const csv = await (await download.createReadStream()).toArray();
  const lines = Buffer.concat(csv).toString('utf8').trim().split('\r\n');
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.match(lines[0], /^inviato,ente,denominazione,tipo,provincia,pec,caselle,servizi/);

  await page.goto(`${env.deskBase}/t/lecce/questionari/maturita-digitale`);
  await go(page, 'button:has-text("Invita tutti gli enti")');
  await answer('maturita-digitale', first, { istanze: 'tutte', canali: ['sito', 'app-io', 'pagopa', 'spid'], backup: 1, misure: { password: 1, aggiornamenti: 1 }, 'open-data': 'no', formazione: 4 });
  await go(page, 'a:has-text("Profili di maturità degli enti")');
  const row = page.locator('table.desk-profiles tbody tr');
  assert.equal(await row.count(), 1);
  assert.deepEqual((await row.locator('td').allInnerTexts()).slice(1), ['Avanzato (100 %)', 'Iniziale (0 %)', 'Iniziale (0 %)', 'Avanzato (75 %)']);
  assert.equal(await page.locator('figure.desk-chart svg[role="img"][data-chart="stacked"]').count(), 1);
  await assertAccessible(page, 'the profiles side by side');

  // An author has no surveys; genova's operator none of lecce's.
  const author = await makeUser(env, 'lecce', 'author', 'Autrice');
  const a = await signIn(browser, env, author);
  const res = await a.page.goto(`${env.deskBase}/t/lecce/questionari`);
  assert.equal(res.status(), 403);
  const other = await makeUser(env, 'genova', 'operator', 'Operatore Genova');
  const g = await signIn(browser, env, other);
  const cross = await g.page.goto(`${env.deskBase}/t/lecce/questionari/fabbisogni-digitali`);
  assert.ok([403, 404].includes(cross.status()), String(cross.status()));
});
