// Event registrations in the desk, in Chromium (issue #14 item 5): an operator finds the demo
// event that takes registrations, sees who registered (confirmed and waiting, with the counts),
// downloads the CSV and invites every body once; axe on each page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startDemo, makeUser, signIn, assertAccessible, api } from './desk.mjs';

let env;
let browser;

before(async () => {
  env = await startDemo({ CIT_REQUESTS__MIN_FILL_SECS: '1', CIT_REQUESTS__PER_ADDRESS: '1000' });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (env) await env.stop();
});

async function go(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function register(event, name, email) {
  const info = await api(env.apiBase, 'GET', `/api/v1/t/lecce/events/${event}/registration`);
  assert.equal(info.status, 200, info.text);
  await new Promise((r) => setTimeout(r, 1300));
  const res = await api(env.apiBase, 'POST', `/api/v1/t/lecce/events/${event}/registrations`, {
    body: { name, email, consent: { accepted: true, version: info.json.privacy.version }, fill_token: info.json.fill_token },
  });
  assert.equal(res.status, 202, res.text);
}

test('an operator reads an event\'s attendees, downloads them and invites the bodies once', async () => {
  const list = await api(env.apiBase, 'GET', '/api/v1/t/lecce/entries/evento?limit=50&sort=start');
  const event = list.json.data.find((e) => e.data.registration_capacity);
  assert.ok(event, 'lecce has a demo event with registration_capacity');
  const enti = await api(env.apiBase, 'GET', '/api/v1/t/lecce/entries/ente?limit=100');
  const withPec = enti.json.data[0];
  const patched = await api(env.apiBase, 'PATCH', `/api/v1/t/lecce/entries/ente/${withPec.id}`, {
    token: env.adminToken, body: { data: { ...withPec.data, pec: 'protocollo@pec.ente-demo.example' }, revision: withPec.revision },
  });
  assert.equal(patched.status, 200, patched.text);
  await register(event.id, 'Anna Rossi', 'anna@comune-a.example');
  await register(event.id, 'Bruno Verdi', 'bruno@comune-b.example');

  const operator = await makeUser(env, 'lecce', 'operator', 'Operatrice Eventi');
  const { page } = await signIn(browser, env, operator);
  await page.goto(`${env.deskBase}/t/lecce/`);
  await go(page, 'nav.desk-menu a:has-text("Iscrizioni")');
  await assertAccessible(page, 'the events with registration');
  await go(page, `a:has-text(${JSON.stringify(event.data.title)})`);
  assert.equal((await page.textContent('.desk-event-confirmed')).trim(), '2');
  const rows = await page.locator('table.desk-attendees tbody tr').allInnerTexts();
  assert.equal(rows.length, 2);
  assert.match(rows[0], /Confermata\s+1\s+Anna Rossi\s+anna@comune-a\.example/);
  await assertAccessible(page, 'an event\'s attendees');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("Scarica gli iscritti (CSV)")')]);
  const csv = Buffer.concat(await (await download.createReadStream()).toArray()).toString('utf8').trim().split('\r\n');
  assert.equal(csv.length, 3, csv.join('\n'));
  assert.match(csv[1], /^confirmed,1,Anna Rossi,anna@comune-a\.example/);

  await go(page, 'button:has-text("Invita tutti gli enti")');
  const first = await page.textContent('main .alert');
  assert.match(first, new RegExp(`Enti invitati ora: 1; già invitati prima: 0\\. ${enti.json.data.length - 1} enti non hanno una PEC`));
  await go(page, 'button:has-text("Invita tutti gli enti")');
  assert.match(await page.textContent('main .alert'), /Enti invitati ora: 0; già invitati prima: 1\./);
});
