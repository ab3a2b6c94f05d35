// Helpers of the desk's browser tests: start `cit demo` (API, sites and desk on free ports, a
// fresh data directory), make users of each role through the API, sign in with Chromium, and
// check a page with axe-core (WCAG 2.1 A and AA).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import { AxeBuilder } from '@axe-core/playwright';
import { WCAG, api, citStart, launchBrowser, stop, tempDir } from './helpers.mjs';

/**
 * With CIT_TEST_DATABASE_URL (a PostgreSQL server URL), a fresh database on that server for one
 * demo, and a function that drops it; without, `null` (the demo uses its embedded SQLite).
 */
function freshPostgres() {
  const admin = process.env.CIT_TEST_DATABASE_URL;
  if (!admin) return null;
  const name = `cit_desk_${process.pid}_${Date.now()}`;
  execFileSync('psql', [admin, '-qc', `CREATE DATABASE ${name}`], { stdio: 'pipe' });
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => {
      try {
        execFileSync('psql', [admin, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: 'pipe' });
      } catch {
        // A database left behind is harmless: its name is unique.
      }
    },
  };
}

export const ADMIN = { email: 'admin@cit.example', password: 'demo-cit-2026' };

/**
 * Starts `cit demo` on free ports with its own data directory. Resolves with
 * `{ demo, apiBase, siteBase, deskBase, adminToken, dataDir, stop() }`.
 */
export async function startDemo(extraEnv = {}) {
  const dataDir = tempDir('cit-desk-');
  const pg = freshPostgres();
  const dbEnv = pg ? { CIT_DATABASE_URL: pg.url } : {};
  const demo = await citStart(
    ['demo'],
    {
      CIT_DATA_DIR: dataDir,
      CIT_LISTEN: '127.0.0.1:0',
      CIT_SITE_LISTEN: '127.0.0.1:0',
      CIT_DESK_LISTEN: '127.0.0.1:0',
      CIT_ADMIN_EMAIL: ADMIN.email,
      CIT_ADMIN_PASSWORD: ADMIN.password,
      CIT_LOG: 'warn,cit_desk=info',
      ...dbEnv,
      ...extraEnv,
    },
    [/API:\s+(http:\/\/\S+)\/api\/v1\//, /sites:\s+(http:\/\/\S+?)\/?\s/, /desk:\s+(http:\/\/\S+?)\/\s/],
  );
  const [apiBase, siteBase, deskBase] = demo.matches.map((m) => m[1]);
  const login = await api(apiBase, 'POST', '/api/v1/auth/login', { body: ADMIN });
  assert.equal(login.status, 200, login.text);
  return {
    demo,
    apiBase,
    siteBase,
    deskBase,
    dataDir,
    adminToken: login.json.access_token,
    database: pg ? 'postgres' : 'sqlite',
    stop: async () => {
      await stop(demo.child);
      if (pg) pg.drop();
    },
  };
}

let userCount = 0;

/**
 * A new user with `role` in `tenant` (added by the platform admin through the API).
 * Resolves with `{ email, password, name, id }`.
 */
export async function makeUser(env, tenant, role, name) {
  userCount += 1;
  const email = `${role}${userCount}-${Date.now()}@${tenant}.example`;
  const password = `Password-${role}-${userCount}!`;
  const display = name || `Utente ${role} ${userCount}`;
  const r = await api(env.apiBase, 'POST', `/api/v1/t/${tenant}/members`, {
    token: env.adminToken,
    body: { email, name: display, password, role },
  });
  assert.ok(r.status === 200 || r.status === 201, `add member: ${r.status} ${r.text}`);
  return { email, password, name: display, id: r.json && r.json.user_id };
}

/** A new browser page signed in to the desk as `user`; resolves with `{ context, page }`. */
export async function signIn(browser, env, user, { width = 1280, height = 900, javaScriptEnabled = true } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'it-IT', javaScriptEnabled });
  const page = await context.newPage();
  await page.goto(`${env.deskBase}/login`);
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.doesNotMatch(page.url(), /\/login/, `signing in as ${user.email} failed`);
  return { context, page };
}

/** Fails on any axe-core violation of WCAG 2.1 A and AA on the page as it is now. */
export async function assertAccessible(page, where) {
  const result = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  const violations = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
  assert.deepEqual(violations, [], `${where}: axe violations`);
  return result.passes.length;
}

export { api, launchBrowser, stop };

/** A valid PNG of `width` × `height` pixels of one colour (for uploads). */
export function tinyPng(width = 4, height = 3, rgb = [0, 102, 204]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const pixels = zlib.deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
