// The desk's requests inbox in Chromium (issue #15 item 5): a municipality opens an assistance
// request through the public API; an operator finds it in the inbox with its due dates, takes it,
// writes an internal note (which the requester never sees), replies (which the requester sees),
// and resolves it; the filters narrow the list; an empty reply is refused with nothing stored; an
// author has no inbox, another tenant's operator no ticket of Lecce. axe on each page state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startDemo, makeUser, signIn, assertAccessible, api } from './desk.mjs';

let env;
let browser;

before(async () => {
  env = await startDemo({ CIT_REQUESTS__MIN_FILL_SECS: '1' });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (env) await env.stop();
});

async function go(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

/**
 * An assistance request as a municipality's clerk sends it, with `file` attached when given
 * (multipart, as the partner site sends it); resolves with `{ number, secret }`.
 */
async function openTicket(tenant, subject, file) {
  const form = await api(env.apiBase, 'GET', `/api/v1/t/${tenant}/forms/richiesta-assistenza`);
  assert.equal(form.status, 200, form.text);
  await new Promise((r) => setTimeout(r, 1300));
  const submission = {
    data: { nome: 'Luca Bianchi', email: 'luca@comune-a.example', oggetto: subject, descrizione: 'Il protocollo non si apre da stamattina.' },
    consent: { accepted: true, version: form.json.consent && form.json.consent.version ? form.json.consent.version : '2026-01' },
    fill_token: form.json.fill_token,
  };
  const url = `/api/v1/t/${tenant}/forms/richiesta-assistenza/submissions`;
  if (!file) {
    const sent = await api(env.apiBase, 'POST', url, { body: submission });
    assert.equal(sent.status, 201, sent.text);
    return sent.json.ticket;
  }
  const body = new FormData();
  body.append('submission', JSON.stringify(submission));
  body.append('attachments', new Blob([file.buffer], { type: file.mimeType }), file.name);
  const resp = await fetch(`${env.apiBase}${url}`, { method: 'POST', body });
  const text = await resp.text();
  assert.equal(resp.status, 201, text);
  return JSON.parse(text).ticket;
}

const staffView = (n) => api(env.apiBase, 'GET', `/api/v1/t/lecce/tickets/${n}`, { token: env.adminToken });

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

test('an operator takes a request, notes, replies and resolves it; the requester sees only the reply', async () => {
  const ticket = await openTicket('lecce', 'Protocollo fermo', { name: 'schermata.png', mimeType: 'image/png', buffer: PNG });
  const operator = await makeUser(env, 'lecce', 'operator', 'Operatrice Lecce');
  const { context, page } = await signIn(browser, env, operator);
  await page.goto(`${env.deskBase}/t/lecce/`);
  await go(page, 'nav.desk-menu a:has-text("Richieste")');
  await assertAccessible(page, 'the inbox');
  const row = page.locator('tr', { hasText: 'Protocollo fermo' });
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /Nuova/);
  assert.match(await row.textContent(), /prima risposta/);
  await Promise.all([page.waitForNavigation(), row.locator('a').click()]);
  assert.match(page.url(), new RegExp(`/t/lecce/richieste/${ticket.number}$`));
  await assertAccessible(page, 'a ticket');

  await go(page, 'button:has-text("Assegna a me")');
  assert.match(await page.textContent('main .alert'), /aggiornata/);
  assert.equal((await staffView(ticket.number)).json.assignee, operator.id);
  assert.match(await page.textContent('.desk-ticket-facts'), /\(tu\)/);

  // An empty reply: refused next to the field, nothing stored.
  const before = (await staffView(ticket.number)).json.messages.length;
  await go(page, 'button:has-text("Invia")');
  assert.ok(await page.$('#f-body-error'));
  assert.equal((await staffView(ticket.number)).json.messages.length, before);
  await assertAccessible(page, 'an empty reply refused');

  await page.fill('#f-body', 'Riavviato il server del protocollo.');
  await page.click('label[for="tipo-interna"]');
  await go(page, 'button:has-text("Invia")');
  assert.match(await page.textContent('main .alert'), /Nota interna aggiunta/);
  assert.equal(await page.locator('.desk-message-internal', { hasText: 'Riavviato il server' }).count(), 1);
  await page.fill('#f-body', 'Buongiorno, il protocollo ora funziona di nuovo.');
  await go(page, 'button:has-text("Invia")');
  assert.match(await page.textContent('main .alert'), /Risposta inviata/);

  // What the requester sees through the secret link: the reply, not the note.
  const theirs = await api(env.apiBase, 'GET', `/api/v1/t/lecce/tickets/by-secret/${ticket.secret}`);
  const bodies = theirs.json.messages.map((m) => m.body).join('\n');
  assert.match(bodies, /il protocollo ora funziona/);
  assert.doesNotMatch(bodies, /Riavviato il server/);

  await page.selectOption('#f-state', 'resolved');
  await go(page, 'button:has-text("Aggiorna")');
  assert.equal((await staffView(ticket.number)).json.state, 'resolved');
  await assertAccessible(page, 'a resolved ticket');

  // The filters.
  await page.goto(`${env.deskBase}/t/lecce/richieste?stato=resolved&mie=1`);
  assert.equal(await page.locator('tr', { hasText: 'Protocollo fermo' }).count(), 1);
  await page.goto(`${env.deskBase}/t/lecce/richieste?stato=new`);
  assert.equal(await page.locator('tr', { hasText: 'Protocollo fermo' }).count(), 0);
  await assertAccessible(page, 'the inbox filtered');

  // The form submission behind it, with its answers and the way back to the ticket.
  await go(page, 'a:has-text("I moduli ricevuti")');
  await assertAccessible(page, 'the submissions');
  const sub = page.locator('tr', { hasText: 'Protocollo fermo' });
  assert.equal(await sub.count(), 1);
  await Promise.all([page.waitForNavigation(), sub.locator('a').first().click()]);
  assert.match(await page.textContent('main'), /Il protocollo non si apre da stamattina/);
  assert.equal(await page.locator(`a[href$="/richieste/${ticket.number}"]`).count(), 1);
  await assertAccessible(page, 'a submission');
  // Its attachment, downloaded through the desk as it was sent.
  const link = page.locator('section[aria-labelledby="allegati"] a', { hasText: 'schermata.png' });
  const href = await link.getAttribute('href');
  assert.doesNotMatch(href, /token|eyJ/);
  const file = await page.evaluate(async (h) => {
    const r = await fetch(h);
    return { status: r.status, disposition: r.headers.get('content-disposition'), bytes: [...new Uint8Array(await r.arrayBuffer())] };
  }, href);
  assert.equal(file.status, 200);
  assert.match(file.disposition, /attachment/);
  assert.deepEqual(Buffer.from(file.bytes), PNG);
  await context.close();
});

test('an author has no inbox; another tenant sees no ticket of Lecce; a post needs the CSRF token', async () => {
  const ticket = await openTicket('lecce', 'Segreto di Lecce');
  const author = await makeUser(env, 'lecce', 'author');
  const a = await signIn(browser, env, author);
  await a.page.goto(`${env.deskBase}/t/lecce/`);
  assert.equal(await a.page.locator('nav.desk-menu a:has-text("Richieste")').count(), 0);
  assert.equal((await a.page.goto(`${env.deskBase}/t/lecce/richieste`)).status(), 403);
  assert.equal((await a.page.goto(`${env.deskBase}/t/lecce/richieste/${ticket.number}`)).status(), 403);
  await a.context.close();

  const outsider = await makeUser(env, 'genova', 'operator');
  const o = await signIn(browser, env, outsider);
  assert.equal((await o.page.goto(`${env.deskBase}/t/lecce/richieste/${ticket.number}`)).status(), 403);
  const own = await o.page.goto(`${env.deskBase}/t/genova/richieste/${ticket.number}`);
  assert.notEqual(own.status(), 200);
  assert.doesNotMatch(await o.page.content(), /Segreto di Lecce/);
  await o.context.close();

  const operator = await makeUser(env, 'lecce', 'operator');
  const op = await signIn(browser, env, operator);
  await op.page.goto(`${env.deskBase}/t/lecce/richieste/${ticket.number}`);
  const status = await op.page.evaluate(async (n) => (await fetch(`/t/lecce/richieste/${n}/messaggi`, { method: 'POST', body: new URLSearchParams({ body: 'senza token' }) })).status, ticket.number);
  assert.equal(status, 403);
  assert.doesNotMatch((await staffView(ticket.number)).text, /senza token/);
  await op.context.close();
});
