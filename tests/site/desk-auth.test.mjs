// The desk's sign-in and its defences (issue 15), in headless Chromium with axe: a wrong
// password is refused on the page; a member signs in, lands on their tenant's dashboard and
// switches tenant; the session cookie is HttpOnly and SameSite=Strict and no API token reaches
// the page or its JavaScript; pages refuse without a session (to the login page), with another
// tenant's membership (403), and posts without the session's CSRF token (403, nothing done);
// logging out ends the session for every later request. Every page seen has no axe violation,
// also at 320 px.
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

test('a wrong password is refused on the login page, which is accessible', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const resp = await page.goto(`${env.deskBase}/t/lecce/`);
  assert.match(page.url(), /\/login\?next=%2Ft%2Flecce%2F$/, 'a page without a session sends to the login');
  assert.equal(resp.status(), 200);
  await assertAccessible(page, 'login');
  await page.fill('#email', 'admin@cit.example');
  await page.fill('#password', 'not-the-password');
  await page.click('button[type=submit]');
  await page.waitForSelector('#login-error');
  assert.match(await page.textContent('#login-error'), /non corrette/);
  assert.equal(await page.inputValue('#email'), 'admin@cit.example', 'the e-mail is kept');
  await assertAccessible(page, 'login with an error');
  await context.close();
});

test('a member signs in, sees their dashboard, switches tenant, and no token reaches the page', async () => {
  const user = await makeUser(env, 'lecce', 'editor', 'Giulia Redattrice');
  const add = await api(env.apiBase, 'POST', '/api/v1/t/genova/members', {
    token: env.adminToken,
    body: { email: user.email, role: 'author' },
  });
  assert.ok(add.status < 300, add.text);
  const { context, page } = await signIn(browser, env, user);
  // Two memberships: the chooser; then the dashboard of the one chosen.
  assert.equal(new URL(page.url()).pathname, '/');
  await assertAccessible(page, 'tenant chooser');
  await Promise.all([page.waitForNavigation(), page.click('a[href="/t/lecce/"]')]);
  assert.equal(await page.textContent('h1'), 'Bacheca di lecce');
  assert.match(await page.textContent('.it-brand-tagline'), /Redattore capo/);
  await assertAccessible(page, 'dashboard');

  // The cookie: HttpOnly, SameSite=Strict, and JavaScript sees none of it.
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'cit_desk');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '');
  const html = await page.content();
  assert.doesNotMatch(html, /eyJ[A-Za-z0-9_-]{10,}\./, 'no JWT in the page');
  assert.doesNotMatch(html, /cit_[A-Za-z0-9]{16,}/, 'no API token in the page');
  assert.doesNotMatch(page.url(), /token|eyJ/);

  // The switcher (a GET form, no JavaScript needed).
  await page.selectOption('#desk-tenant', 'genova');
  await Promise.all([page.waitForNavigation(), page.click('.desk-switcher button')]);
  assert.equal(new URL(page.url()).pathname, '/t/genova/');
  assert.match(await page.textContent('.it-brand-tagline'), /Autore/);

  // At 320 px the page still works and stays accessible.
  await page.setViewportSize({ width: 320, height: 800 });
  await page.reload();
  await assertAccessible(page, 'dashboard at 320 px');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `no horizontal scrolling at 320 px (${overflow} px)`);
  await context.close();
});

test("another tenant's pages, forged posts and ended sessions are refused", async () => {
  const user = await makeUser(env, 'lecce', 'editor');
  const { context, page } = await signIn(browser, env, user);
  assert.equal(new URL(page.url()).pathname, '/t/lecce/', 'one membership: straight to its dashboard');

  // Another tenant: 403, with the desk's page (and nothing of genova's content).
  const other = await page.goto(`${env.deskBase}/t/genova/`);
  assert.equal(other.status(), 403);
  assert.match(await page.textContent('main'), /Non sei membro di questo ente/);
  await assertAccessible(page, 'forbidden page');

  // A post without the CSRF token (as another site would make it): 403, and logged in still.
  const forged = await page.request.post(`${env.deskBase}/logout`, { form: { csrf: 'forged' }, maxRedirects: 0 });
  assert.equal(forged.status(), 403);
  const noToken = await page.request.post(`${env.deskBase}/logout`, { form: {}, maxRedirects: 0 });
  assert.equal(noToken.status(), 403);
  const still = await page.goto(`${env.deskBase}/t/lecce/`);
  assert.equal(still.status(), 200, 'the forged logouts did nothing');

  // Logging out (the real button) ends the session: the old cookie opens nothing afterwards.
  const cookie = (await context.cookies()).find((c) => c.name === 'cit_desk').value;
  await Promise.all([page.waitForNavigation(), page.click('.desk-logout')]);
  assert.match(page.url(), /\/login$/);
  const replay = await fetch(`${env.deskBase}/t/lecce/`, { headers: { Cookie: `cit_desk=${cookie}` }, redirect: 'manual' });
  assert.equal(replay.status, 303);
  assert.match(replay.headers.get('location'), /^\/login/);
  // A made-up session id is no better.
  const madeUp = await fetch(`${env.deskBase}/t/lecce/`, { headers: { Cookie: 'cit_desk=AAAA' }, redirect: 'manual' });
  assert.equal(madeUp.status, 303);
  await context.close();
});

test('every answer carries a strict Content-Security-Policy and is not cached', async () => {
  for (const path of ['/login', '/t/lecce/']) {
    const resp = await fetch(env.deskBase + path, { redirect: 'manual' });
    const csp = resp.headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'no inline scripts');
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(resp.headers.get('cache-control'), 'no-store');
    assert.equal(resp.headers.get('x-frame-options'), 'DENY');
  }
  // The login form itself refuses a post that did not come from it (no double-submit value).
  const forged = await fetch(`${env.deskBase}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: 'admin@cit.example', password: 'demo-cit-2026', login_token: 'x' }),
    redirect: 'manual',
  });
  assert.equal(forged.status, 403);
  assert.equal(forged.headers.get('set-cookie')?.includes('cit_desk='), false, 'no session for a forged login');
});

test('a platform admin may open every tenant, and no desk link is dead', async () => {
  const { ADMIN } = await import('./desk.mjs');
  const { context, page } = await signIn(browser, env, ADMIN);
  assert.equal(new URL(page.url()).pathname, '/');
  for (const id of ['lecce', 'genova', 'avellino', 'potenza', 'brescia']) {
    assert.ok(await page.$(`a[href="/t/${id}/"]`), `the chooser lists ${id}`);
  }
  await assertAccessible(page, 'chooser of a platform admin');
  await Promise.all([page.waitForNavigation(), page.click('a[href="/t/brescia/"]')]);
  assert.equal(await page.textContent('h1'), 'Bacheca di brescia');
  assert.match(await page.textContent('.it-brand-tagline'), /Amministratore della piattaforma/);
  // Every link to the desk itself on these pages answers 200 (the menu has no dead item).
  const links = new Set();
  for (const path of ['/', '/t/brescia/', '/t/lecce/']) {
    await page.goto(env.deskBase + path);
    for (const href of await page.$$eval('a[href^="/"]', (as) => as.map((a) => a.getAttribute('href')))) links.add(href);
  }
  assert.ok(links.size >= 6, `links found: ${[...links]}`);
  for (const href of links) {
    const resp = await page.request.get(env.deskBase + href);
    assert.equal(resp.status(), 200, `${href} answers ${resp.status()}`);
  }
  await context.close();
});
