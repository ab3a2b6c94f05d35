// Surveys on a partner site (issue 14), in headless Chromium: forty generated member bodies
// answer the demo survey through their own invitation links, over HTTP through the site's form
// (one of them in the browser: a draft, then back through the link, then sent, with
// JavaScript off); then the public results page, whose charts must be SVG images drawn on the
// server and whose numbers must match the answers, recomputed here. axe on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { ROOT, WCAG, api, citStart, freePort, launchBrowser, stop, tempDir } from './helpers.mjs';

const SURVEY = 'fabbisogni-digitali';
const PROVINCES = ['LE', 'BR', 'TA'];
const SERVIZI = ['protocollo', 'pagopa', 'app-io', 'sito', 'conservazione'];
const ROWS = ['servizi-online', 'dati', 'sicurezza', 'competenze'];
const N = 40;

let demo;
let apiBase;
let siteBase;
let browser;
let admin;
const links = {};

before(async () => {
  const sitePort = await freePort();
  demo = await citStart(['demo'], {
    CIT_DATA_DIR: tempDir('cit-site-surveys-'),
    CIT_LISTEN: '127.0.0.1:0',
    CIT_SITE_LISTEN: `127.0.0.1:${sitePort}`,
    CIT_THEMES_DIR: path.join(ROOT, 'themes'),
    CIT_SITE_API_TIMEOUT_SECS: '60',
    CIT_REQUESTS__SITE_URL: `http://127.0.0.1:${sitePort}/{tenant}`,
    CIT_REQUESTS__MIN_FILL_SECS: '1',
    CIT_REQUESTS__PER_ADDRESS: '1000',
  }, [/API:\s+(http:\/\/\S+)\/api\/v1\//, /sites:\s+(http:\/\/\S+?)\/\s/, /Press Ctrl-C/]);
  apiBase = demo.matches[0][1];
  siteBase = demo.matches[1][1];
  const login = await api(apiBase, 'POST', '/api/v1/auth/login', { body: { email: 'admin@cit.example', password: 'demo-cit-2026' } });
  assert.equal(login.status, 200, login.text);
  admin = login.json.access_token;
  const slugs = [];
  for (let i = 0; i < N; i += 1) {
    const slug = `ente-generato-${i}`;
    slugs.push(slug);
    const res = await api(apiBase, 'POST', '/api/v1/t/lecce/entries/ente', {
      token: admin,
      body: { status: 'published', slug, data: { title: `Comune generato ${i}`, kind: i % 3 === 0 ? 'unione-di-comuni' : 'comune', province: PROVINCES[i % 3], pec: `protocollo@pec.ente-${i}.example` } },
    });
    assert.equal(res.status, 201, res.text);
  }
  const invited = await api(apiBase, 'POST', `/api/v1/t/lecce/surveys/${SURVEY}/invitations`, { token: admin, body: { enti: slugs } });
  assert.equal(invited.status, 200, invited.text);
  assert.equal(invited.json.invited, N);
  const list = await api(apiBase, 'GET', `/api/v1/t/lecce/surveys/${SURVEY}/invitations`, { token: admin });
  for (const row of list.json.data) links[row.ente] = row.link;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stop(demo?.child);
});

async function axeCheck(page, where) {
  const axe = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  assert.deepEqual(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`), [], `${where}: axe violations`);
}

/** The answers of body `i`, as form fields: a plain function of `i`. */
function answersOf(i) {
  const pec = ['si', 'no', 'in-parte', 'si'][i % 4];
  const servizi = SERVIZI.filter((_, k) => (i + k) % 3 !== 0);
  const aree = Object.fromEntries(ROWS.map((r, k) => [r, 1 + ((i + k * 2) % 5)]));
  return { pec, caselle: pec === 'no' ? null : i % 9, servizi, soddisfazione: 1 + ((i * 7) % 5), aree, referente: `Referente ${i}` };
}

function formBody(a, csrf, action) {
  const p = new URLSearchParams();
  p.append('csrf', csrf);
  p.append('pec', a.pec);
  if (a.caselle !== null) p.append('caselle', String(a.caselle));
  for (const s of a.servizi) p.append('servizi', s);
  p.append('soddisfazione', String(a.soddisfazione));
  for (const [r, v] of Object.entries(a.aree)) p.append(`aree__${r}`, String(v));
  p.append('referente', a.referente);
  p.append('note', '');
  p.append('azione', action);
  return p.toString();
}

/** Answers through the site's own form over HTTP, as a browser without JavaScript would. */
async function answerOverHttp(link, a) {
  const page = await fetch(link);
  assert.equal(page.status, 200, link);
  const cookie = page.headers.get('set-cookie').split(';')[0];
  const csrf = (await page.text()).match(/name="csrf" value="([^"]+)"/)[1];
  const sent = await fetch(link, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: formBody(a, csrf, 'invia') });
  assert.equal(sent.status, 303, `${link}: ${await sent.text()}`);
  assert.match(sent.headers.get('location'), /\?inviato=1$/);
}

/** Ticks an option as a person does: by its label (the theme draws the box over the input). */
async function choose(page, name, value) {
  const id = await page.locator(`input[name="${name}"][value="${value}"]`).getAttribute('id');
  await page.locator(`label[for="${id}"]`).click();
}

const pct = (count, of) => {
  const r = Math.round((count * 1000) / of) / 10;
  return `${Number.isInteger(r) ? r.toFixed(0) : r.toFixed(1).replace('.', ',')} %`;
};

test('a body saves a draft, comes back through its link and sends; forty bodies answer; a reused link is refused (axe, JavaScript off)', async () => {
  // Body 0 in the browser, JavaScript off: part of it, saved, and the link again later.
  const a0 = answersOf(0);
  const link0 = links['ente-generato-0'];
  const js = await (await browser.newContext()).newPage();
  await js.goto(link0);
  await axeCheck(js, 'survey form');
  const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await page.goto(link0);
  assert.match(await page.locator('h1').innerText(), /fabbisogni digitali/);
  await choose(page, 'pec', a0.pec);
  await page.locator('#domanda-caselle').fill('seicento');
  await page.getByRole('button', { name: 'Salva la bozza' }).click();
  // A wrong type: the error next to its question, the typed value kept, nothing saved.
  assert.match(await page.locator('#domanda-caselle-errore').innerText(), /numero/);
  assert.equal(await page.locator('#domanda-caselle').inputValue(), 'seicento');
  await axeCheck(js, 'survey form (before)');
  await page.locator('#domanda-caselle').fill(String(a0.caselle));
  await page.getByRole('button', { name: 'Salva la bozza' }).click();
  assert.match(page.url(), /\?salvato=1$/);
  assert.match(await page.locator('.cit-survey-saved').innerText(), /Bozza salvata/);
  // Back later: the draft is there.
  const later = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await later.goto(link0);
  assert.match(await later.locator('.cit-survey-draft').innerText(), /bozza/);
  assert.equal(await later.locator(`input[name="pec"][value="${a0.pec}"]`).isChecked(), true);
  assert.equal(await later.locator('#domanda-caselle').inputValue(), String(a0.caselle));
  // Sending with required questions left: each error next to its question.
  await later.getByRole('button', { name: 'Invia le risposte' }).click();
  assert.match(await later.locator('#riepilogo-errori').innerText(), /errori/);
  assert.match(await later.locator('#domanda-servizi-errore').innerText(), /Rispondi/);
  for (const s of a0.servizi) await choose(later, 'servizi', s);
  await choose(later, 'soddisfazione', a0.soddisfazione);
  for (const [r, v] of Object.entries(a0.aree)) await choose(later, `aree__${r}`, v);
  await later.locator('#domanda-referente').fill(a0.referente);
  await later.getByRole('button', { name: 'Invia le risposte' }).click();
  assert.match(later.url(), /\?inviato=1$/);
  assert.match(await later.locator('.cit-survey-sent').innerText(), /inviate/);
  await js.goto(link0);
  await axeCheck(js, 'survey sent');

  for (let i = 1; i < N; i += 1) await answerOverHttp(links[`ente-generato-${i}`], answersOf(i));

  // The link again after sending: the answers stay as sent.
  const again = await fetch(link0);
  const html = await again.text();
  assert.match(html, /Le risposte sono state inviate/);
  assert.doesNotMatch(html, /Invia le risposte/);
  const api0 = await api(apiBase, 'PUT', `/api/v1/t/lecce/surveys/${SURVEY}/invitations/by-secret/${link0.split('/').pop()}`, { body: { answers: { pec: 'no' }, send: true } });
  assert.equal(api0.status, 409, api0.text);
  assert.equal(api0.json.code, 'already_answered');
});

test('the public results page: SVG charts drawn on the server, numbers that match the answers, a table for each chart (axe)', async () => {
  const all = Array.from({ length: N }, (_, i) => answersOf(i));
  const page = await (await browser.newContext()).newPage();
  const res = await page.goto(`${siteBase}/lecce/questionari/${SURVEY}/risultati`);
  assert.equal(res.status(), 200);
  assert.match(await page.locator('.cit-responses').innerText(), new RegExp(`Risposte inviate: ${N}\\b`));

  const rows = async (question, table = 0) => page.locator(`article[data-question="${question}"] table.cit-result-table`).nth(table).locator('tbody tr').evaluateAll(
    (trs) => trs.map((tr) => [tr.querySelector('th').innerText.trim(), ...[...tr.querySelectorAll('td')].map((td) => td.innerText.trim())]),
  );
  const pecLabels = { si: 'Sì', 'in-parte': 'In parte', no: 'No' };
  const pecRows = await rows('pec');
  for (const [value, label] of Object.entries(pecLabels)) {
    const count = all.filter((a) => a.pec === value).length;
    assert.deepEqual(pecRows.find((r) => r[0] === label), [label, String(count), pct(count, N)], `pec ${value}`);
  }
  const servizi = await rows('servizi');
  assert.equal(servizi.length, SERVIZI.length);
  SERVIZI.forEach((s, k) => {
    const count = all.filter((a) => a.servizi.includes(s)).length;
    assert.equal(servizi[k][1], String(count), `servizi ${s}`);
    assert.equal(servizi[k][2], pct(count, N));
  });
  const scale = await rows('soddisfazione');
  for (let p = 1; p <= 5; p += 1) assert.equal(scale[p - 1][1], String(all.filter((a) => a.soddisfazione === p).length), `scale ${p}`);
  const points = all.map((a) => a.soddisfazione).sort((x, y) => x - y);
  const mean = points.reduce((s, x) => s + x, 0) / N;
  const median = (points[N / 2 - 1] + points[N / 2]) / 2;
  const it = (x) => { const r = Math.round(x * 10) / 10; return Number.isInteger(r) ? r.toFixed(0) : r.toFixed(1).replace('.', ','); };
  const stats = await page.locator('article[data-question="soddisfazione"] .cit-result-stats dd').allInnerTexts();
  assert.deepEqual(stats.slice(0, 2), [it(mean), it(median)]);
  const byProvince = await page.locator('article[data-question="pec"] table.cit-result-provinces tbody tr').evaluateAll(
    (trs) => trs.map((tr) => [tr.querySelector('th').innerText.trim(), ...[...tr.querySelectorAll('td')].map((td) => td.innerText.trim())]),
  );
  for (const p of PROVINCES) {
    const si = all.filter((a, i) => PROVINCES[i % 3] === p && a.pec === 'si').length;
    const row = byProvince.find((r) => r[0] === p);
    assert.equal(row[1], String(si), `province ${p}`);
    assert.equal(row.at(-1), String(all.filter((_, i) => PROVINCES[i % 3] === p).length));
  }
  const matrix = await rows('aree');
  ROWS.forEach((r, k) => {
    const xs = all.map((a) => a.aree[r]);
    assert.equal(matrix[k][6], it(xs.reduce((s, x) => s + x, 0) / N), `aree ${r} mean`);
  });

  // The charts: SVG images drawn on the server, each named and described, of each kind.
  const charts = await page.locator('figure.cit-chart > svg[role="img"]').evaluateAll((svgs) => svgs.map((s) => ({
    kind: s.dataset.chart,
    title: s.querySelector('title')?.textContent,
    desc: s.querySelector('desc')?.textContent,
    shapes: s.querySelectorAll('rect, path, polygon').length,
  })));
  assert.ok(charts.length >= 5, JSON.stringify(charts));
  for (const kind of ['bar', 'stacked', 'radar']) assert.ok(charts.some((c) => c.kind === kind), `a ${kind} chart`);
  for (const c of charts) {
    assert.ok(c.title && c.desc && c.shapes > 0, JSON.stringify(c));
  }
  assert.match(charts.find((c) => c.title.startsWith("L'ente usa")).desc, new RegExp(`${N} risposte`));
  assert.doesNotMatch(await page.content(), /Referente \d/, 'free text is never published');
  await axeCheck(page, 'survey results');

  // Without JavaScript the charts are there all the same: they are drawn on the server.
  const nojs = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await nojs.goto(`${siteBase}/lecce/questionari/${SURVEY}/risultati`);
  assert.equal(await nojs.locator('figure.cit-chart > svg[role="img"]').count(), charts.length);
  await nojs.goto(`${siteBase}/lecce/questionari`);
  await nojs.getByRole('link', { name: /Risultati: Rilevazione/ }).click();
  assert.match(nojs.url(), /\/questionari\/fabbisogni-digitali\/risultati$/);
  await page.goto(`${siteBase}/lecce/questionari`);
  await axeCheck(page, 'surveys list');
  // genova has its own survey, with none of lecce's answers.
  const genova = await fetch(`${siteBase}/genova/questionari/${SURVEY}/risultati`);
  assert.match(await genova.text(), /Risposte inviate: <strong>0<\/strong>/);
});

test('an assessment: the body sends its checklist and sees its profile, with advice and the services that close each gap (axe, JavaScript off)', async () => {
  const slug = 'ente-generato-1';
  const invited = await api(apiBase, 'POST', '/api/v1/t/lecce/surveys/maturita-digitale/invitations', { token: admin, body: { enti: [slug] } });
  assert.equal(invited.status, 200, invited.text);
  const list = await api(apiBase, 'GET', '/api/v1/t/lecce/surveys/maturita-digitale/invitations', { token: admin });
  const link = list.json.data.find((r) => r.ente === slug).link;
  const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await page.goto(link);
  await choose(page, 'istanze', 'alcune');
  await choose(page, 'canali', 'sito');
  await choose(page, 'canali', 'spid');
  await choose(page, 'backup', 2);
  await choose(page, 'misure__password', 2);
  await choose(page, 'misure__aggiornamenti', 1);
  await choose(page, 'open-data', 'regolarmente');
  await choose(page, 'formazione', 4);
  await page.getByRole('button', { name: 'Invia le risposte' }).click();
  assert.match(page.url(), /\?inviato=1$/);

  // Recomputed here: servizi online (1 + 2) of (3 + 4), sicurezza (1 + 1 + 0) of 12, dati 2 of 2,
  // competenze 3 of 4; levels from 40 % and 75 %.
  const rows = await page.locator('table.cit-profile-table tbody tr').evaluateAll(
    (trs) => trs.map((tr) => [tr.querySelector('th').innerText.trim(), ...[...tr.querySelectorAll('td')].map((td) => td.innerText.trim())]),
  );
  assert.deepEqual(rows, [
    ['Servizi online', '42,9 %', 'In crescita'],
    ['Sicurezza informatica', '16,7 %', 'Iniziale'],
    ['Dati e territorio', '100 %', 'Avanzato'],
    ['Competenze del personale', '75 %', 'Avanzato'],
  ]);
  const services = await api(apiBase, 'GET', '/api/v1/t/lecce/entries/servizio?limit=100');
  const titlesOf = (categories) => services.json.data.filter((s) => categories.includes(s.data.category)).map((s) => s.data.title).sort();
  const advice = await page.locator('.cit-advice').evaluateAll((divs) => divs.map((d) => ({
    area: d.querySelector('h4').innerText,
    links: [...d.querySelectorAll('a')].map((a) => a.innerText).sort(),
    hrefs: [...d.querySelectorAll('a')].map((a) => a.getAttribute('href')),
  })));
  assert.deepEqual(advice.map((a) => a.area), ['Servizi online: In crescita', 'Sicurezza informatica: Iniziale']);
  assert.deepEqual(advice[0].links, titlesOf(['istanze-e-protocollo', 'anagrafe-e-stato-civile', 'gestione-associata', 'transizione-digitale']));
  assert.deepEqual(advice[1].links, titlesOf(['sicurezza-informatica', 'infrastrutture-digitali', 'assistenza-tecnica']));
  assert.ok(advice[0].links.length > 0 && advice[0].hrefs.every((h) => h.startsWith('/lecce/servizi/')), JSON.stringify(advice));
  const svg = page.locator('.cit-profile figure.cit-chart > svg[role="img"]');
  assert.equal(await svg.getAttribute('data-chart'), 'radar');
  assert.match(await svg.locator('desc').textContent(), /Sicurezza informatica: 16,7 % \(Iniziale\)/);
  const js = await (await browser.newContext()).newPage();
  await js.goto(link);
  await axeCheck(js, 'assessment profile');

  // The CIT sees the bodies side by side.
  const all = await api(apiBase, 'GET', '/api/v1/t/lecce/surveys/maturita-digitale/profiles', { token: admin });
  assert.equal(all.status, 200, all.text);
  const mine = all.json.data.find((b) => b.ente === slug);
  assert.deepEqual(mine.areas.map((a) => a.level_label), ['In crescita', 'Iniziale', 'Avanzato', 'Avanzato']);
});

test('an anonymous survey on the site: answered all at once, an error next to its question, the fill token kept (axe, JavaScript off)', async () => {
  const def = {
    title: 'Gradimento del sito',
    audience: 'anonymous',
    results: 'public',
    sections: [{ title: 'Il sito', questions: [
      { name: 'voto', label: 'Quanto è utile il sito del CIT?', kind: 'scale', required: true, min_label: 'Poco', max_label: 'Molto' },
      { name: 'cosa', label: 'Che cosa cercavi?', kind: 'short' },
    ] }],
  };
  const put = await api(apiBase, 'PUT', '/api/v1/t/lecce/surveys/gradimento', { token: admin, body: def });
  assert.equal(put.status, 201, put.text);
  const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await page.goto(`${siteBase}/lecce/questionari`);
  await page.getByRole('link', { name: 'Rispondi: Gradimento del sito' }).click();
  assert.match(page.url(), /\/questionari\/gradimento$/);
  assert.equal(await page.getByRole('button', { name: 'Salva la bozza' }).count(), 0, 'no drafts when anonymous');
  await page.locator('#domanda-cosa').fill('I servizi per i Comuni');
  await page.waitForTimeout(1300);
  await page.getByRole('button', { name: 'Invia le risposte' }).click();
  assert.match(await page.locator('#domanda-voto-errore').innerText(), /Rispondi/);
  assert.equal(await page.locator('#domanda-cosa').inputValue(), 'I servizi per i Comuni');
  const js = await (await browser.newContext()).newPage();
  await js.goto(`${siteBase}/lecce/questionari/gradimento`);
  await axeCheck(js, 'anonymous survey');
  await choose(page, 'voto', 4);
  await page.getByRole('button', { name: 'Invia le risposte' }).click();
  assert.match(page.url(), /\?inviato=1$/);
  assert.match(await page.locator('.cit-survey-sent').innerText(), /inviate/);
  const results = await api(apiBase, 'GET', '/api/v1/t/lecce/surveys/gradimento/results');
  assert.equal(results.json.responses, 1);
  assert.equal(results.json.questions[0].choices[3].count, 1);
  // An invited survey has no anonymous page.
  assert.equal((await fetch(`${siteBase}/lecce/questionari/${SURVEY}`)).status, 404);
});
