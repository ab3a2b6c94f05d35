// The desk's administration in Chromium (issue #15 item 6): an admin adds a member (who can then
// sign in to the tenant), changes a role and removes someone; creates an API token whose secret
// is shown once (in the page, never in an address; not again after a reload), which works
// against the API until it is revoked; reads the audit log with those actions; shows the plan of
// a content-type change before applying it, and a definition the API refuses changes nothing;
// a platform admin creates a tenant and disables it. An editor has none of it, another tenant's
// admin neither. axe (WCAG 2.1 A and AA) on every page state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SCREENSHOTS } from './helpers.mjs';
import { launchBrowser, startDemo, makeUser, signIn, assertAccessible, api, ADMIN } from './desk.mjs';

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

async function go(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

test('an admin adds a member, changes a role, creates and revokes a token, and reads the audit log', async () => {
  const admin = await makeUser(env, 'lecce', 'admin', 'Amministratrice Lecce');
  const { context, page } = await signIn(browser, env, admin);
  const addresses = [];
  page.on('request', (r) => addresses.push(r.url()));
  await page.goto(`${env.deskBase}/t/lecce/`);
  await go(page, 'nav.desk-menu a:has-text("Amministrazione")');
  await assertAccessible(page, 'the administration index');
  await go(page, 'a:has-text("Persone e ruoli")');
  await assertAccessible(page, 'the members');

  // A new person: a bad e-mail is refused next to its field, nothing stored.
  const before = (await adminGet('/api/v1/t/lecce/members')).json.data.length;
  await page.fill('#f-email', 'non-una-email');
  await page.fill('#f-name', 'Giulia Rossi');
  await go(page, 'button:has-text("Aggiungi")');
  assert.ok(await page.$('#f-email-error'), 'the refusal is next to the e-mail');
  assert.equal(await page.inputValue('#f-name'), 'Giulia Rossi', 'what was typed is kept');
  assert.equal((await adminGet('/api/v1/t/lecce/members')).json.data.length, before, 'nobody added');
  await assertAccessible(page, 'the members with a refusal');
  const email = `giulia.rossi.${Date.now()}@lecce.example`;
  await page.fill('#f-email', email);
  await page.fill('#f-password', 'Una-password-lunga-1');
  await page.selectOption('#f-role', 'author');
  await go(page, 'button:has-text("Aggiungi")');
  assert.match(await page.textContent('main .alert'), /ora è membro con il ruolo Autore/);
  let member = (await adminGet('/api/v1/t/lecce/members')).json.data.find((m) => m.email === email);
  assert.equal(member.role, 'author');

  // The new member signs in to Lecce.
  const theirs = await signIn(browser, env, { email, password: 'Una-password-lunga-1' });
  await theirs.page.goto(`${env.deskBase}/t/lecce/`);
  assert.match(await theirs.page.textContent('.it-brand-tagline'), /Autore/);
  await theirs.context.close();

  // A new role, from the list.
  const row = page.locator('tr', { hasText: email });
  await row.locator('select').selectOption('editor');
  await Promise.all([page.waitForNavigation(), row.locator('button:has-text("Cambia ruolo")').click()]);
  assert.match(await page.textContent('main .alert'), /Ruolo cambiato: Redattore capo/);
  member = (await adminGet('/api/v1/t/lecce/members')).json.data.find((m) => m.email === email);
  assert.equal(member.role, 'editor');

  // A token: the secret once, in the page.
  await page.goto(`${env.deskBase}/t/lecce/amministrazione/token`);
  await assertAccessible(page, 'the tokens');
  await page.fill('#f-name', 'sito del comune');
  await page.click('label[for="scope-preview"]');
  await go(page, 'button:has-text("Crea il token")');
  const secret = await page.inputValue('#secret');
  assert.match(secret, /^cit_/);
  await assertAccessible(page, 'a new token shown once');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'desk-admin-token.png'), fullPage: true });
  for (const a of addresses) assert.ok(!a.includes(secret), `the secret is not in ${a}`);
  const works = await api(env.apiBase, 'GET', '/api/v1/t/lecce/entries/notizia?status=any&limit=1', { token: secret });
  assert.equal(works.status, 200, 'the token works against the API');
  await page.goto(`${env.deskBase}/t/lecce/amministrazione/token`);
  assert.ok(!(await page.content()).includes(secret), 'not shown again');
  assert.equal(await page.locator('#secret').count(), 0);
  const stored = (await adminGet('/api/v1/t/lecce/tokens')).json.data.find((k) => k.name === 'sito del comune');
  assert.deepEqual(stored.scopes.sort(), ['preview', 'read']);

  // Revoked after a confirmation: the API refuses it from then on.
  await go(page, 'tr:has-text("sito del comune") a:has-text("Revoca")');
  await assertAccessible(page, 'the revocation confirmation');
  await go(page, 'button:has-text("Revoca il token")');
  assert.match(await page.textContent('main .alert'), /revocato/);
  const refused = await api(env.apiBase, 'GET', '/api/v1/t/lecce/entries/notizia?status=any&limit=1', { token: secret });
  assert.equal(refused.status, 401);

  // Removed after a confirmation.
  await page.goto(`${env.deskBase}/t/lecce/amministrazione/membri`);
  await go(page, `tr:has-text("${email}") a:has-text("Togli")`);
  await assertAccessible(page, 'the removal confirmation');
  await go(page, 'button:has-text("Togli dall\'ente")');
  assert.equal((await adminGet('/api/v1/t/lecce/members')).json.data.find((m) => m.email === email), undefined);

  // The audit log has all of it.
  await page.goto(`${env.deskBase}/t/lecce/amministrazione/registro`);
  const log = await page.textContent('main table');
  for (const action of ['member.add', 'member.role', 'member.remove', 'token.create', 'token.revoke']) {
    assert.ok(log.includes(action), `${action} in the audit log`);
  }
  await assertAccessible(page, 'the audit log');
  await context.close();
});

test('a content-type change is shown as a plan before it is applied; a bad one changes nothing', async () => {
  const admin = await makeUser(env, 'lecce', 'admin');
  const { context, page } = await signIn(browser, env, admin);
  await page.goto(`${env.deskBase}/t/lecce/amministrazione/tipi`);
  await assertAccessible(page, 'the content types');
  await go(page, 'a:has-text("Notizie")');
  const original = (await adminGet('/api/v1/t/lecce/content-types/notizia')).json;
  const definition = JSON.parse(await page.inputValue('#f-definition'));
  definition.fields.push({ name: 'sottotitolo', kind: 'string', label: 'Sottotitolo' });
  await page.fill('#f-definition', JSON.stringify(definition, null, 2));
  await go(page, 'button:has-text("Mostra il piano")');
  assert.match(await page.textContent('#plan'), /sottotitolo/);
  assert.equal((await adminGet('/api/v1/t/lecce/content-types/notizia')).json.version, original.version, 'a plan changes nothing');
  await assertAccessible(page, 'a plan');
  await go(page, 'button:has-text("Applica la modifica")');
  assert.match(await page.textContent('main .alert'), /Modifica applicata/);
  const changed = (await adminGet('/api/v1/t/lecce/content-types/notizia')).json;
  assert.ok(changed.definition.fields.some((f) => f.name === 'sottotitolo'), 'the API has the new field');
  assert.ok(changed.version > original.version);

  // Not JSON, then a field of an unknown kind: refused next to the text area, nothing changed.
  for (const bad of ['{ non è json', JSON.stringify({ ...definition, fields: [...definition.fields, { name: 'x', kind: 'ologramma' }] })]) {
    await page.fill('#f-definition', bad);
    await go(page, 'button:has-text("Mostra il piano")');
    assert.ok(await page.$('#f-definition-error'), 'the refusal is next to the definition');
    assert.equal(await page.inputValue('#f-definition'), bad, 'what was typed is kept');
  }
  await assertAccessible(page, 'a refused definition');
  assert.equal((await adminGet('/api/v1/t/lecce/content-types/notizia')).json.version, changed.version);

  // Dropping a field that holds data: the plan says so, and it applies only once accepted.
  const withData = await api(env.apiBase, 'POST', '/api/v1/t/lecce/entries/notizia', {
    token: env.adminToken,
    body: { data: { title: 'Con sottotitolo', sottotitolo: 'Da perdere' }, slug: 'con-sottotitolo' },
  });
  assert.equal(withData.status, 201, withData.text);
  await page.goto(`${env.deskBase}/t/lecce/amministrazione/tipi/notizia`);
  const current = JSON.parse(await page.inputValue('#f-definition'));
  current.fields = current.fields.filter((f) => f.name !== 'sottotitolo');
  await page.fill('#f-definition', JSON.stringify(current, null, 2));
  await go(page, 'button:has-text("Mostra il piano")');
  assert.match(await page.textContent('#plan'), /perde dati di 1 contenuti/);
  await assertAccessible(page, 'a plan that loses data');
  await go(page, 'button:has-text("Applica la modifica")');
  assert.ok(await page.$('#f-definition-error'), 'refused without the check box');
  assert.ok(((await adminGet('/api/v1/t/lecce/content-types/notizia')).json.definition.fields).some((f) => f.name === 'sottotitolo'), 'kept');
  await page.click('label[for="f-force"]');
  await go(page, 'button:has-text("Applica la modifica")');
  assert.match(await page.textContent('main .alert'), /Modifica applicata/);
  assert.ok(!((await adminGet('/api/v1/t/lecce/content-types/notizia')).json.definition.fields).some((f) => f.name === 'sottotitolo'), 'dropped');
  await context.close();
});

test('a platform admin creates a tenant and disables it; editors and other admins have none of it', async () => {
  const { context, page } = await signIn(browser, env, ADMIN);
  await page.goto(`${env.deskBase}/enti`);
  await assertAccessible(page, 'the tenants');
  const id = `otranto${Date.now() % 100000}`;
  await page.fill('#f-id', 'Non Valido!');
  await page.fill('#f-name', 'Comune di Otranto');
  await go(page, 'button:has-text("Crea l\'ente")');
  assert.ok(await page.$('#problem'), 'a bad id is refused');
  assert.equal(await page.inputValue('#f-name'), 'Comune di Otranto');
  await page.fill('#f-id', id);
  await page.fill('#f-locales', 'it, en');
  await go(page, 'button:has-text("Crea l\'ente")');
  assert.match(await page.textContent('main .alert'), /creato/);
  let tenant = await adminGet(`/api/v1/tenants/${id}`);
  assert.equal(tenant.status, 200);
  assert.deepEqual(tenant.json.locales, ['it', 'en']);
  await page.click('label[for="f-disabled"]');
  await go(page, 'button:has-text("Salva")');
  assert.match(await page.textContent('main .alert'), /aggiornato/);
  tenant = await adminGet(`/api/v1/tenants/${id}`);
  assert.equal(tenant.json.disabled, true);
  await assertAccessible(page, 'a tenant');
  await context.close();

  // An editor: no menu item, every page refused.
  const editor = await makeUser(env, 'lecce', 'editor');
  const ed = await signIn(browser, env, editor);
  await ed.page.goto(`${env.deskBase}/t/lecce/`);
  assert.equal(await ed.page.locator('nav.desk-menu a:has-text("Amministrazione")').count(), 0);
  for (const p of ['amministrazione', 'amministrazione/membri', 'amministrazione/token', 'amministrazione/registro', 'amministrazione/tipi']) {
    assert.equal((await ed.page.goto(`${env.deskBase}/t/lecce/${p}`)).status(), 403, p);
  }
  assert.equal((await ed.page.goto(`${env.deskBase}/enti`)).status(), 403);
  await ed.context.close();

  // Genova's admin: refused in Lecce, and a forged post adds nobody.
  const other = await makeUser(env, 'genova', 'admin');
  const ge = await signIn(browser, env, other);
  assert.equal((await ge.page.goto(`${env.deskBase}/t/lecce/amministrazione/membri`)).status(), 403);
  await ge.page.goto(`${env.deskBase}/t/genova/amministrazione/membri`);
  const csrf = await ge.page.inputValue('input[name=csrf]');
  const forged = await ge.page.evaluate(async (token) => {
    const r = await fetch('/t/lecce/amministrazione/membri', { method: 'POST', body: new URLSearchParams({ csrf: token, email: 'x@y.example', role: 'admin', name: 'X', password: 'Password-lunga-1' }) });
    return r.status;
  }, csrf);
  assert.equal(forged, 403);
  const noCsrf = await ge.page.evaluate(async () => (await fetch('/t/genova/amministrazione/membri', { method: 'POST', body: new URLSearchParams({ email: 'x@y.example', role: 'admin' }) })).status);
  assert.equal(noCsrf, 403, 'a post without the CSRF token is refused');
  assert.equal((await adminGet('/api/v1/t/lecce/members')).json.data.some((m) => m.email === 'x@y.example'), false);
  await ge.context.close();
});
