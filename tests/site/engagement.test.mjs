// Engaging the territory on a partner site (issue 14), in headless Chromium, with axe on every
// page and again with JavaScript off, the e-mails caught by a real SMTP server:
// - registration for an event: from the event page to its form, the errors next to their
//   fields, the confirmation with the event as .ics, the cancellation through its link, the
//   attendee list an operator reads from the API;
// - the newsletter: the footer box, the form, the double opt-in link, a campaign sent by an
//   editor, and the one-click unsubscribe a mail client posts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { ROOT, WCAG, api, citStart, freePort, launchBrowser, startSmtp, stop, tempDir } from './helpers.mjs';

const MIN_FILL_SECS = 1;
const FILL_WAIT_MS = MIN_FILL_SECS * 1000 + 300;

let smtp;
let demo;
let apiBase;
let siteBase;
let browser;
let admin;

before(async () => {
  smtp = await startSmtp();
  const sitePort = await freePort();
  demo = await citStart(['demo'], {
    CIT_DATA_DIR: tempDir('cit-site-engagement-'),
    CIT_LISTEN: '127.0.0.1:0',
    CIT_SITE_LISTEN: `127.0.0.1:${sitePort}`,
    CIT_THEMES_DIR: path.join(ROOT, 'themes'),
    CIT_SITE_API_TIMEOUT_SECS: '60',
    CIT_REQUESTS__MIN_FILL_SECS: String(MIN_FILL_SECS),
    // Every post of these tests comes from 127.0.0.1: the per-address limit would stop them.
    CIT_REQUESTS__PER_ADDRESS: '1000',
    CIT_REQUESTS__SITE_URL: `http://127.0.0.1:${sitePort}/{tenant}`,
    CIT_MAIL__TRANSPORT: 'smtp',
    CIT_MAIL__SMTP__HOST: '127.0.0.1',
    CIT_MAIL__SMTP__PORT: String(smtp.port),
    CIT_MAIL__SMTP__TLS: 'none',
    CIT_MAIL__POLL_MS: '200',
  }, [/API:\s+(http:\/\/\S+)\/api\/v1\//, /sites:\s+(http:\/\/\S+?)\/\s/, /Press Ctrl-C/]);
  apiBase = demo.matches[0][1];
  siteBase = demo.matches[1][1];
  const login = await api(apiBase, 'POST', '/api/v1/auth/login', { body: { email: 'admin@cit.example', password: 'demo-cit-2026' } });
  assert.equal(login.status, 200, login.text);
  admin = login.json.access_token;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stop(demo?.child);
  await stop(smtp?.child);
});

async function axeCheck(page, where) {
  const axe = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  assert.deepEqual(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`), [], `${where}: axe violations`);
}

const mailWhere = (pred) => smtp.mailWhere(pred, 60_000, () => demo.output().slice(-3000));

/** The demo event of `tenant` that takes registrations on the site. */
async function registrable(tenant) {
  const list = await api(apiBase, 'GET', `/api/v1/t/${tenant}/entries/evento?limit=50&sort=start`);
  assert.equal(list.status, 200, list.text);
  const e = list.json.data.find((x) => x.data.registration_capacity);
  assert.ok(e, `${tenant} has a demo event with registration_capacity`);
  return e;
}

/**
 * From the event page to the registration, its e-mail and its cancellation. axe runs where
 * JavaScript does (it is a script); the same journey is then walked with JavaScript off.
 */
async function journey(javaScriptEnabled) {
  const event = await registrable('lecce');
  const email = `iscritta-${javaScriptEnabled ? 'js' : 'nojs'}-${Date.now()}@comune.esempio.it`;
  const context = await browser.newContext({ javaScriptEnabled });
  const page = await context.newPage();
  const axeClean = javaScriptEnabled ? axeCheck : async () => {};

  await page.goto(`${siteBase}/lecce/eventi/${event.slug}`);
  await axeClean(page, 'event page');
  await page.getByRole('link', { name: "Iscriviti all'evento" }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), new RegExp(`/lecce/eventi/${event.slug}/iscrizione$`));
  assert.match(await page.locator('.cit-places-left').innerText(), new RegExp(`su ${event.data.registration_capacity}$`));
  await axeClean(page, 'registration form');

  // Nothing filled in: every error next to its field, in the summary, and nothing stored.
  await page.waitForTimeout(FILL_WAIT_MS);
  const refused = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Iscriviti', exact: true }).click()]);
  assert.equal(refused[0].status(), 422);
  assert.match(await page.locator('#campo-nome-errore').innerText(), /nome e cognome/);
  assert.match(await page.locator('#campo-email-errore').innerText(), /email valido/);
  assert.equal(await page.locator('#campo-nome').getAttribute('aria-invalid'), 'true');
  assert.ok(await page.locator('.cit-error-summary').isVisible());
  await axeClean(page, 'registration form with errors');

  // Filled in, but without consent: the other values are kept.
  await page.locator('#campo-nome').fill('Giulia Verdi');
  await page.locator('#campo-email').fill(email);
  await page.waitForTimeout(FILL_WAIT_MS);
  await page.getByRole('button', { name: 'Iscriviti', exact: true }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('#campo-consenso-errore').innerText(), /informativa/);
  assert.equal(await page.locator('#campo-email').inputValue(), email);

  await page.locator('label[for="campo-consenso"]').click();
  await page.waitForTimeout(FILL_WAIT_MS);
  await page.getByRole('button', { name: 'Iscriviti', exact: true }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), /\/iscrizione\?inviata=1$/);
  assert.match(await page.locator('.cit-registration-sent').innerText(), /Controlla la tua casella di posta/);
  await axeClean(page, 'registration received');

  const confirmed = await mailWhere((m) => m.rcpt_tos.includes(email) && m.subject.includes('Iscrizione confermata'));
  const ics = confirmed.attachments.find((a) => a.content_type === 'text/calendar');
  assert.ok(ics, JSON.stringify(confirmed.attachments));
  assert.equal(ics.filename, 'evento.ics');
  assert.match(ics.content, /BEGIN:VEVENT[\s\S]*SUMMARY:[\s\S]*END:VEVENT/);
  assert.match(ics.content, new RegExp(`UID:${event.id}@lecce\\.cit`));
  const link = confirmed.body.match(new RegExp(`${siteBase}/lecce/eventi/iscrizione/[A-Za-z0-9_-]+`))[0];

  const attendees = await api(apiBase, 'GET', `/api/v1/t/lecce/events/${event.id}/registrations`, { token: admin });
  assert.equal(attendees.status, 200, attendees.text);
  assert.equal(attendees.json.data.filter((r) => r.email === email && r.status === 'confirmed').length, 1);

  await page.goto(link);
  assert.equal(await page.locator('.cit-registration-state').innerText(), 'Iscrizione confermata');
  await axeClean(page, 'own registration');
  await page.getByRole('button', { name: "Annulla l'iscrizione" }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), /\?annullata=1$/);
  assert.equal(await page.locator('.cit-registration-state').innerText(), 'Iscrizione annullata');
  await axeClean(page, 'cancelled registration');
  await mailWhere((m) => m.rcpt_tos.includes(email) && m.subject.includes('Iscrizione annullata'));
  const after = await api(apiBase, 'GET', `/api/v1/t/lecce/events/${event.id}/registrations`, { token: admin });
  assert.equal(after.json.data.find((r) => r.email === email).status, 'cancelled');
  await context.close();

  // A forged link is a 404 page, not an error of the site.
  const forged = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  const res = await forged.goto(`${siteBase}/lecce/eventi/iscrizione/${'A'.repeat(43)}`);
  assert.equal(res.status(), 404);
}

test('a clerk registers for an event from its page, gets the .ics by e-mail and cancels through the link (axe on every page)', async () => {
  await journey(true);
});

test('the same registration and cancellation work with JavaScript off', async () => {
  await journey(false);
});

test('every partner has an event open for registration, and its form is accessible', async () => {
  for (const tenant of ['genova', 'avellino', 'potenza', 'brescia']) {
    const event = await registrable(tenant);
    const page = await (await browser.newContext()).newPage();
    const res = await page.goto(`${siteBase}/${tenant}/eventi/${event.slug}/iscrizione`);
    assert.equal(res.status(), 200, tenant);
    assert.ok(await page.getByRole('button', { name: 'Iscriviti', exact: true }).isVisible(), tenant);
    await axeCheck(page, `${tenant} registration form`);
    // Another tenant's event is not found on this site.
    const other = await page.goto(`${siteBase}/${tenant === 'genova' ? 'lecce' : 'genova'}/eventi/${event.slug}/iscrizione`);
    assert.equal(other.status(), 404, `${event.slug} of ${tenant} is not on another site`);
  }
});

/** Subscribes `email` from the footer of the home page, and confirms through the link. */
async function subscribeFromFooter(page, email, check) {
  await page.goto(`${siteBase}/lecce/`);
  await page.locator('#newsletter-footer-email').fill(email);
  await page.getByRole('button', { name: 'Iscriviti alla newsletter' }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), /\/lecce\/newsletter$/);
  assert.equal(await page.locator('#newsletter-email').inputValue(), email, 'the address typed in the footer is kept');
  await check(page, 'newsletter form');

  await page.waitForTimeout(FILL_WAIT_MS);
  await page.getByRole('button', { name: 'Iscriviti', exact: true }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('#newsletter-consenso-errore').innerText(), /informativa/);
  await check(page, 'newsletter form with an error');
  await page.locator('label[for="newsletter-consenso"]').click();
  await page.getByRole('button', { name: 'Iscriviti', exact: true }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), /\/newsletter\?inviata=1$/);
  assert.match(await page.locator('.cit-newsletter-sent').innerText(), /conferma/);
  await check(page, 'newsletter request received');

  const mail = await mailWhere((m) => m.rcpt_tos.includes(email) && m.subject.includes("Conferma l'iscrizione"));
  const link = mail.body.match(new RegExp(`${siteBase}/lecce/newsletter/conferma/[A-Za-z0-9_.-]+`))[0];
  await page.goto(link);
  await check(page, 'newsletter confirmation link');
  await page.getByRole('button', { name: "Conferma l'iscrizione" }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.cit-newsletter-done').innerText(), /sei iscritto/);
  await check(page, 'newsletter confirmed');
}

async function subscriber(email) {
  const subs = await api(apiBase, 'GET', '/api/v1/t/lecce/newsletter/lists/notizie/subscribers', { token: admin });
  assert.equal(subs.status, 200, subs.text);
  return subs.json.data.find((s) => s.email === email);
}

test('a clerk subscribes from the footer, confirms, gets a campaign and leaves with one click', async () => {
  const email = `lettrice-${Date.now()}@comune.esempio.it`;
  const page = await (await browser.newContext()).newPage();
  await subscribeFromFooter(page, email, axeCheck);
  const sub = await subscriber(email);
  assert.equal(sub.status, 'active');
  assert.ok(sub.consent_version && sub.consent_at, 'the consent is recorded');

  const draft = await api(apiBase, 'POST', '/api/v1/t/lecce/newsletter/campaigns', {
    token: admin,
    body: { list: 'notizie', subject: `Il mese del CIT ${Date.now()}`, digest: { days: 365, intro: 'Le novità.' } },
  });
  assert.equal(draft.status, 201, draft.text);
  const sent = await api(apiBase, 'POST', `/api/v1/t/lecce/newsletter/campaigns/${draft.json.id}/send`, { token: admin });
  assert.equal(sent.status, 202, sent.text);
  const message = await mailWhere((m) => m.rcpt_tos.includes(email) && m.subject === draft.json.subject);
  assert.match(message.body, /## Prossimi eventi/);
  assert.equal(message.headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
  const oneClick = message.headers['List-Unsubscribe'].match(/^<(.+)>$/)[1];
  assert.ok(message.body.includes(oneClick), 'the same link is in the text');

  // What a mail client does for the one-click button (RFC 8058): a POST, no cookie, no token.
  const resp = await fetch(oneClick, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click', redirect: 'manual' });
  assert.equal(resp.status, 200, await resp.text());
  assert.equal((await subscriber(email)).status, 'unsubscribed');
  await page.goto(oneClick);
  assert.match(await page.locator('.cit-newsletter-done').innerText(), /Non riceverai più/);
  await axeCheck(page, 'newsletter left');
});

test('the newsletter works with JavaScript off: subscribe, confirm, leave through the link', async () => {
  const email = `lettore-nojs-${Date.now()}@comune.esempio.it`;
  const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await subscribeFromFooter(page, email, async () => {});
  assert.equal((await subscriber(email)).status, 'active');
  // Asking again says nothing different on the page; the e-mail carries the link to leave.
  await page.goto(`${siteBase}/lecce/newsletter`);
  await page.locator('#newsletter-email').fill(email);
  await page.locator('label[for="newsletter-consenso"]').click();
  await page.waitForTimeout(FILL_WAIT_MS);
  await page.getByRole('button', { name: 'Iscriviti', exact: true }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), /\/newsletter\?inviata=1$/);
  const again = await mailWhere((m) => m.rcpt_tos.includes(email) && m.subject.includes('iscritto alla newsletter'));
  const leave = again.body.match(new RegExp(`${siteBase}/lecce/newsletter/disiscrizione/[A-Za-z0-9_.-]+`))[0];
  await page.goto(leave);
  await page.getByRole('button', { name: "Annulla l'iscrizione" }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.cit-newsletter-done').innerText(), /Non riceverai più/);
  assert.equal((await subscriber(email)).status, 'unsubscribed');
  const forged = await page.goto(`${siteBase}/lecce/newsletter/conferma/x.y.z.w`);
  assert.equal(forged.status(), 404);
});
