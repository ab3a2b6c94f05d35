// Requests from the territory on a partner site (issue 13), in headless Chromium with axe:
// a clerk asks for assistance from a service sheet → an operator of the tenant finds the ticket
// in the API, takes it and answers → the answer reaches a real SMTP server (python3-aiosmtpd,
// started here) with the secret link → the clerk opens it, answers → the operator resolves it and
// the page says so. Plus the contact form's errors next to their fields, the page rating stored
// as a submission, a post without the site's CSRF token refused with nothing stored, and files
// attached to an assistance request (a disguised one refused next to its field, a good one
// downloaded back byte for byte by an operator).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { ROOT, WCAG, api, citStart, freePort, launchBrowser, startSmtp, stop, tempDir } from './helpers.mjs';

const TENANT = 'lecce';
/** The API's minimum fill time in these tests (CIT_REQUESTS__MIN_FILL_SECS); forms wait a bit more. */
const MIN_FILL_SECS = 1;
const FILL_WAIT_MS = MIN_FILL_SECS * 1000 + 300;

let smtp;
let demo;
let apiBase;
let siteBase;
let browser;
let admin;
/** Waits until a message the SMTP server received matches `pred`. */
let mailWhere;

before(async () => {
  smtp = await startSmtp();
  mailWhere = (pred, limitMs) => smtp.mailWhere(pred, limitMs, () => demo.output().slice(-3000));
  const dataDir = tempDir('cit-site-requests-');
  const sitePort = await freePort();
  demo = await citStart(['demo'], {
    CIT_DATA_DIR: dataDir,
    CIT_LISTEN: '127.0.0.1:0',
    CIT_SITE_LISTEN: `127.0.0.1:${sitePort}`,
    CIT_THEMES_DIR: path.join(ROOT, 'themes'),
    CIT_SITE_API_TIMEOUT_SECS: '60',
    CIT_REQUESTS__MIN_FILL_SECS: String(MIN_FILL_SECS),
    // The e-mails link to this site, on the port the test got.
    CIT_REQUESTS__SITE_URL: `http://127.0.0.1:${sitePort}/{tenant}`,
    CIT_MAIL__TRANSPORT: 'smtp',
    CIT_MAIL__SMTP__HOST: '127.0.0.1',
    CIT_MAIL__SMTP__PORT: String(smtp.port),
    CIT_MAIL__SMTP__TLS: 'none',
    CIT_MAIL__POLL_MS: '200',
  }, [/API:\s+(http:\/\/\S+)\/api\/v1\//, /sites:\s+(http:\/\/\S+?)\/\s/, /Press Ctrl-C/]);
  apiBase = demo.matches[0][1];
  siteBase = demo.matches[1][1];
  assert.equal(siteBase, `http://127.0.0.1:${sitePort}`);
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

async function axeClean(page, where) {
  const axe = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  assert.deepEqual(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`), [], `${where}: axe violations`);
}

/** A value a person would type in a field of this kind. */
function sample(field, i) {
  switch (field.kind) {
    case 'email': return `impiegato${i}@comune.esempio.it`;
    case 'text': case 'richtext': return 'Il protocollo informatico non si apre da stamattina: compare una pagina bianca.';
    case 'integer': return String(field.min ?? 1);
    case 'decimal': return String(field.min ?? 1);
    case 'url': return 'https://comune.esempio.it';
    case 'date': return '2026-12-01';
    default: return field.name === 'telefono' ? '0832 000000' : `Valore ${field.label || field.name}`;
  }
}

/** Ticks a radio button or checkbox the way a person does: on its label. */
async function tick(page, id) {
  await page.locator(`label[for="${id}"]`).click();
}

/** Fills every field of a form the API describes, but those in `skip`; ticks the consent. */
async function fill(page, form, skip = []) {
  const typed = {};
  for (const [i, f] of form.fields.entries()) {
    if (skip.includes(f.name)) continue;
    const sel = `[name="f.${f.name}"]`;
    if (f.kind === 'boolean') {
      if (f.required) await tick(page, `campo-${f.name}`);
    } else if (f.kind === 'enum') {
      if ((await page.locator(`select${sel}`).count()) > 0) {
        await page.locator(sel).selectOption(f.values[0]);
      } else {
        await tick(page, `campo-${f.name}-0`);
      }
      typed[f.name] = f.values[0];
    } else {
      const v = sample(f, i);
      await page.locator(sel).fill(v);
      typed[f.name] = v;
    }
  }
  if (form.privacy) await tick(page, 'campo-consenso');
  return typed;
}

test('a clerk asks for assistance, an operator answers by e-mail, the clerk answers through the link, the ticket is resolved', async () => {
  // An operator of the tenant, created through the API.
  const member = await api(apiBase, 'POST', `/api/v1/t/${TENANT}/members`, {
    token: admin,
    body: { email: 'operatrice@cit.example', role: 'operator', name: 'Anna Operatrice', password: 'operatrice-2026' },
  });
  assert.equal(member.status, 201, member.text);
  const opLogin = await api(apiBase, 'POST', '/api/v1/auth/login', { body: { email: 'operatrice@cit.example', password: 'operatrice-2026' } });
  assert.equal(opLogin.status, 200, opLogin.text);
  const op = opLogin.json.access_token;

  const services = await api(apiBase, 'GET', `/api/v1/t/${TENANT}/entries/servizio?filter[category][eq]=assistenza-tecnica&limit=1&fields=title`);
  assert.equal(services.status, 200, services.text);
  const service = services.json.data[0];
  const form = (await api(apiBase, 'GET', `/api/v1/t/${TENANT}/forms/richiesta-assistenza`)).json;
  const email = `clerk-${Date.now()}@comune.esempio.it`;

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${siteBase}/${TENANT}/servizi/${service.slug}`);
  await page.getByRole('link', { name: 'Richiedi assistenza' }).click();
  await page.waitForLoadState('load');
  assert.match(page.url(), new RegExp(`/${TENANT}/assistenza/richiesta\\?servizio=${service.slug}$`));
  assert.match(await page.locator('main').innerText(), new RegExp(service.data.title));
  await axeClean(page, 'assistance form');

  const typed = await fill(page, form);
  const emailField = form.fields.find((f) => f.kind === 'email');
  if (emailField) await page.locator(`[name="f.${emailField.name}"]`).fill(email);
  await page.waitForTimeout(FILL_WAIT_MS);
  await page.getByRole('button', { name: 'Invia la richiesta' }).click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').innerText(), 'Richiesta di assistenza inviata', await page.locator('main').innerText());
  const number = Number(await page.locator('.cit-ticket-number').innerText());
  assert.ok(number > 0);
  const followUp = await page.locator('a.cit-ticket-link').getAttribute('href');
  assert.match(followUp, new RegExp(`^${siteBase}/${TENANT}/assistenza/ticket/\\S+$`));
  await axeClean(page, 'assistance confirmation');

  // The operator sees it, takes it and answers.
  const list = await api(apiBase, 'GET', `/api/v1/t/${TENANT}/tickets?state=new`, { token: op });
  assert.equal(list.status, 200, list.text);
  const ticket = list.json.data.find((t) => t.number === number);
  assert.ok(ticket, `ticket ${number} in ${list.text}`);
  const take = await api(apiBase, 'PATCH', `/api/v1/t/${TENANT}/tickets/${number}`, { token: op, body: { assignee: member.json.user_id, state: 'open' } });
  assert.equal(take.status, 200, take.text);
  const answer = 'Buongiorno, abbiamo riavviato il servizio: può riprovare e dirci se ora funziona?';
  const sent = await api(apiBase, 'POST', `/api/v1/t/${TENANT}/tickets/${number}/messages`, { token: op, body: { body: answer, internal: false } });
  assert.equal(sent.status, 201, sent.text);
  const note = await api(apiBase, 'POST', `/api/v1/t/${TENANT}/tickets/${number}/messages`, { token: op, body: { body: 'Nota interna: riavviato il nodo 2.', internal: true } });
  assert.equal(note.status, 201, note.text);

  // The e-mail with the secret link, as the SMTP server received it.
  const mail = await mailWhere((m) => m.rcpt_tos.includes(email) && m.body.includes('/assistenza/ticket/'));
  const link = mail.body.match(/https?:\/\/\S+\/assistenza\/ticket\/[A-Za-z0-9_-]+/)[0];
  assert.ok(link.startsWith(`${siteBase}/${TENANT}/assistenza/ticket/`), link);

  // The clerk opens it in another browser (no cookie of the first visit) and answers.
  const clerk = await browser.newContext();
  const tp = await clerk.newPage();
  const opened = await tp.goto(link);
  assert.equal(opened.status(), 200);
  assert.equal(opened.headers()['cache-control'], 'no-store');
  const thread = await tp.locator('main').innerText();
  assert.match(thread, new RegExp(`Richiesta di assistenza n. ${number}`));
  assert.ok(thread.includes(answer), 'the public reply is shown');
  assert.ok(!thread.includes('Nota interna'), 'internal notes are not');
  await axeClean(tp, 'ticket page');
  // An empty answer: the error is next to the box.
  await tp.getByRole('button', { name: 'Invia la risposta' }).click();
  await tp.waitForLoadState('load');
  assert.equal(await tp.locator('#campo-messaggio').getAttribute('aria-invalid'), 'true');
  assert.match(await tp.locator('#campo-messaggio-errore').innerText(), /Scrivi il testo/);
  await axeClean(tp, 'ticket page with an error');
  const reply = 'Grazie, ora funziona. <script>alert(1)</script>';
  await tp.locator('#campo-messaggio').fill(reply);
  await tp.getByRole('button', { name: 'Invia la risposta' }).click();
  await tp.waitForLoadState('load');
  assert.match(tp.url(), /\?inviata=1$/);
  assert.match(await tp.locator('[role="status"]').first().innerText(), /risposta è stata inviata/);
  assert.ok((await tp.locator('.cit-message-requester').last().innerText()).includes(reply), 'the answer is in the thread, as text');

  // The operator sees the answer and resolves the ticket.
  const full = await api(apiBase, 'GET', `/api/v1/t/${TENANT}/tickets/${number}`, { token: op });
  assert.equal(full.status, 200, full.text);
  assert.ok(JSON.stringify(full.json).includes('Grazie, ora funziona.'));
  const resolved = await api(apiBase, 'PATCH', `/api/v1/t/${TENANT}/tickets/${number}`, { token: op, body: { state: 'resolved' } });
  assert.equal(resolved.status, 200, resolved.text);
  await tp.goto(link);
  assert.equal(await tp.locator('.cit-ticket-state').getAttribute('data-state'), 'resolved');
  assert.equal(await tp.locator('.cit-ticket-state').innerText(), 'Risolta');
  await axeClean(tp, 'resolved ticket page');

  // A forged link is a plain 404.
  const forged = await tp.goto(`${siteBase}/${TENANT}/assistenza/ticket/${'A'.repeat(43)}`);
  assert.equal(forged.status(), 404);
  await clerk.close();
  await context.close();
  assert.ok(typed);
});

test('a clerk attaches a file to an assistance request; a disguised one is refused next to the field', async () => {
  const op = (await api(apiBase, 'POST', '/api/v1/auth/login', { body: { email: 'operatrice@cit.example', password: 'operatrice-2026' } })).json.access_token;
  const form = (await api(apiBase, 'GET', `/api/v1/t/${TENANT}/forms/richiesta-assistenza`)).json;
  assert.ok(form.attachments, 'the preset form takes attachments');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${siteBase}/${TENANT}/assistenza/richiesta`);
  assert.equal(await page.locator('form.cit-request-form').getAttribute('enctype'), 'multipart/form-data');
  const input = page.getByLabel('Allegati (facoltativi)');
  assert.equal(await input.getAttribute('type'), 'file');
  assert.match(await page.locator('#campo-allegati-aiuto').innerText(), /Fino a 3 file, di 5 MB al massimo ciascuno\. Tipi ammessi: PDF, PNG, JPEG o testo/);
  await axeClean(page, 'assistance form with a file input');

  await fill(page, form);
  // A program named and declared as a PDF.
  await input.setInputFiles([{ name: 'fattura.pdf', mimeType: 'application/pdf', buffer: Buffer.from('4d5a90000300000004000000ffff0000', 'hex') }]);
  await page.waitForTimeout(FILL_WAIT_MS);
  const [refused] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Invia la richiesta' }).click()]);
  assert.equal(refused.status(), 422);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.ok((await input.getAttribute('aria-describedby')).split(' ').includes('campo-allegati-errore'));
  assert.match(await page.locator('#campo-allegati-errore').innerText(), /non è di un tipo ammesso/);
  assert.equal(await page.locator('#riepilogo-errori a').first().getAttribute('href'), '#campo-allegati');
  assert.ok(await page.locator('input[name="consent"]').isChecked(), 'the other values are kept');
  await axeClean(page, 'assistance form with a file error');

  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
  await input.setInputFiles([{ name: 'schermata.png', mimeType: 'image/png', buffer: png }]);
  await page.waitForTimeout(FILL_WAIT_MS);
  await page.getByRole('button', { name: 'Invia la richiesta' }).click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').innerText(), 'Richiesta di assistenza inviata', await page.locator('main').innerText());
  const number = Number(await page.locator('.cit-ticket-number').innerText());
  await context.close();

  // The operator finds the file on the ticket and downloads it as it was sent; nobody else can.
  const ticket = await api(apiBase, 'GET', `/api/v1/t/${TENANT}/tickets/${number}`, { token: op });
  assert.equal(ticket.status, 200, ticket.text);
  assert.deepEqual(ticket.json.attachments.map((a) => [a.name, a.content_type, a.size]), [['schermata.png', 'image/png', png.length]]);
  const url = `${apiBase}/api/v1/t/${TENANT}/submissions/${ticket.json.submission}/attachments/${ticket.json.attachments[0].id}`;
  const file = await fetch(url, { headers: { Authorization: `Bearer ${op}` } });
  assert.equal(file.status, 200);
  assert.match(file.headers.get('content-disposition'), /^attachment;/);
  assert.equal(file.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(Buffer.from(await file.arrayBuffer()).equals(png), 'byte-identical');
  assert.equal((await fetch(url)).status, 401);
});

test('the contact form shows a missing required field next to it and keeps the other values', async () => {
  const form = (await api(apiBase, 'GET', `/api/v1/t/${TENANT}/forms/contatti`)).json;
  const missing = form.fields.find((f) => f.required && !['boolean', 'enum'].includes(f.kind));
  assert.ok(missing, 'the contact form has a required text field');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${siteBase}/${TENANT}/contatti`);
  await axeClean(page, 'contact form');
  const typed = await fill(page, form, [missing.name]);
  await page.waitForTimeout(FILL_WAIT_MS);
  const resp = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Invia il messaggio' }).click()]);
  assert.equal(resp[0].status(), 422);
  const input = page.locator(`#campo-${missing.name}`);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  const describedBy = (await input.getAttribute('aria-describedby')).split(' ');
  assert.ok(describedBy.includes(`campo-${missing.name}-errore`));
  assert.match(await page.locator(`#campo-${missing.name}-errore`).innerText(), /obbligatorio/);
  const summary = page.locator('#riepilogo-errori');
  assert.match(await summary.innerText(), new RegExp(missing.label));
  assert.equal(await summary.locator('a').first().getAttribute('href'), `#campo-${missing.name}`);
  for (const [name, value] of Object.entries(typed)) {
    const f = form.fields.find((x) => x.name === name);
    if (f.kind === 'enum') continue;
    assert.equal(await page.locator(`[name="f.${name}"]`).inputValue(), value, `${name} is kept`);
  }
  assert.ok(await page.locator('input[name="consent"]').isChecked(), 'the consent is kept');
  await axeClean(page, 'contact form with errors');

  await input.fill(sample(missing, 9));
  await page.waitForTimeout(FILL_WAIT_MS);
  await page.getByRole('button', { name: 'Invia il messaggio' }).click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').innerText(), 'Messaggio inviato');
  await axeClean(page, 'contact confirmation');
  await context.close();
});

test('a post without the site CSRF token is refused and nothing is stored', async () => {
  const op = (await api(apiBase, 'POST', '/api/v1/auth/login', { body: { email: 'operatrice@cit.example', password: 'operatrice-2026' } })).json.access_token;
  const count = async () => (await api(apiBase, 'GET', `/api/v1/t/${TENANT}/submissions?form=contatti&limit=100`, { token: op })).json.data.length;
  const before = await count();
  const resp = await fetch(`${siteBase}/${TENANT}/contatti`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'f.nome=Mallory&f.email=m%40example.com&f.messaggio=ciao&consent=2026-01&csrf=forged',
  });
  assert.equal(resp.status, 400);
  assert.match(await resp.text(), /sessione del modulo è scaduta/);
  assert.equal(await count(), before);
});

test('the page rating is confirmed and stored as a submission of valutazione-pagina', async () => {
  const op = (await api(apiBase, 'POST', '/api/v1/auth/login', { body: { email: 'operatrice@cit.example', password: 'operatrice-2026' } })).json.access_token;
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${siteBase}/${TENANT}/servizi`);
  const widget = page.locator('[data-element="feedback"]');
  assert.equal(await widget.count(), 1);
  assert.equal(await widget.locator('[data-element="feedback-rating-negative"]').isVisible(), false, 'the follow-up waits for a rating');
  await widget.locator('label[for="rating-2"]').click();
  assert.equal(await widget.locator('[data-element="feedback-rating-negative"]').isVisible(), true, 'a low rating asks what was hard');
  assert.equal(await widget.locator('[data-element="feedback-rating-positive"]').isVisible(), false);
  await widget.locator('label[for="rating-5"]').click();
  assert.equal(await widget.locator('[data-element="feedback-rating-positive"]').isVisible(), true, 'a high rating asks what was liked');
  await widget.locator('label[for="rating-2"]').click();
  await widget.getByText('Ho avuto problemi tecnici', { exact: true }).click();
  await widget.locator('[data-element="feedback-input-text"]').fill('Il filtro per categoria non si vede bene.');
  await widget.getByRole('button', { name: 'Invia la valutazione' }).click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').innerText(), 'Conferma la tua valutazione');
  assert.ok(await page.locator('#rating-2').isChecked(), 'the rating is kept');
  assert.ok(await page.getByLabel('Ho avuto problemi tecnici', { exact: true }).isChecked(), 'the answer is kept');
  await axeClean(page, 'rating confirmation');
  await page.waitForTimeout(FILL_WAIT_MS);
  await page.getByRole('button', { name: 'Conferma e invia' }).click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('h1').innerText(), 'Grazie per il tuo parere');
  await axeClean(page, 'rating thanks');
  await context.close();

  const stored = await api(apiBase, 'GET', `/api/v1/t/${TENANT}/submissions?form=valutazione-pagina&limit=100`, { token: op });
  assert.equal(stored.status, 200, stored.text);
  const mine = stored.json.data.find((s) => JSON.stringify(s).includes('Il filtro per categoria non si vede bene.'));
  assert.ok(mine, stored.text);
  assert.equal(mine.data.rating, 2);
  assert.equal(mine.data.difficolta, 'problemi-tecnici', 'the fourth difficulty of the model');
  assert.equal(mine.page, '/servizi');
});
