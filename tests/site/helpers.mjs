// Helpers of the browser tests: start cit processes, wait for what they print, drive Chromium.
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The cit binary under test: CIT_BIN (relative to the repository root), else target/debug/cit. */
export const BIN = path.resolve(ROOT, process.env.CIT_BIN || 'target/debug/cit');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');
export const PARTNERS = ['lecce', 'genova', 'avellino', 'potenza', 'brescia'];
export const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Environment for a cit process: the caller's, with cheap password hashing and no colours. */
export function citEnv(extra) {
  return {
    ...process.env,
    NO_COLOR: '1',
    CIT_LOG: 'warn,cit_site=info,cit=info',
    CIT_PASSWORD_HASHING__MEMORY_KIB: '256',
    CIT_PASSWORD_HASHING__ITERATIONS: '1',
    ...extra,
  };
}

/** Runs `cit args…` to completion and returns its standard output. */
export function citRun(args, env) {
  return execFileSync(BIN, args, { cwd: ROOT, env: citEnv(env), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Starts `cit args…` and resolves when every pattern has matched its output (stdout and stderr
 * together), with the matches. Rejects if the process exits first or nothing matches in `limitMs`.
 */
export function citStart(args, env, patterns, limitMs = 120_000) {
  const child = spawn(BIN, args, { cwd: ROOT, env: citEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cit ${args.join(' ')} printed nothing expected within ${limitMs} ms:\n${output}`));
    }, limitMs);
    const check = () => {
      const matches = patterns.map((p) => output.match(p));
      if (matches.every(Boolean)) {
        clearTimeout(timer);
        resolve({ child, matches, output: () => output });
      }
    };
    const onData = (chunk) => {
      output += chunk.toString();
      check();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`cit ${args.join(' ')} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  }).then((r) => {
    r.child.removeAllListeners('exit');
    return r;
  });
}

/** Stops a child process and waits for it to go. */
export function stop(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** The primary colour a partner's theme.toml gives, as Chromium prints a computed colour. */
export function themePrimary(themesDir, id) {
  const text = fs.readFileSync(path.join(themesDir, id, 'theme.toml'), 'utf8');
  const hex = text.match(/^primary\s*=\s*"#([0-9a-fA-F]{6})"/m)[1];
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}

export async function api(base, method, urlPath, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(base + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: resp.status, json, text };
}

/** A port free right now on loopback (a site's, which the API's e-mail links must name). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts the SMTP sink (tests/site/smtp_sink.py, Debian's python3-aiosmtpd) and resolves with
 * `{ child, port, lines, mailWhere }`: `lines` are the messages received, `mailWhere(pred)` waits
 * (polling, no sleeps) until one matches; `context()` adds to its failure message.
 */
export function startSmtp() {
  const child = spawn('/usr/bin/python3', [path.join(ROOT, 'tests', 'site', 'smtp_sink.py')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const mailWhere = async (pred, limitMs = 60_000, context = () => '') => {
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      const found = lines.find(pred);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no such e-mail within ${limitMs} ms; received: ${JSON.stringify(lines.map((l) => l.subject))}\n--- cit output (end) ---\n${context()}`);
  };
  let buffer = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the SMTP sink did not start')), 20_000);
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = line.match(/^listening (\d+)$/);
        if (m) {
          clearTimeout(timer);
          resolve({ child, port: Number(m[1]), lines, mailWhere });
        } else if (line.startsWith('{')) {
          lines.push(JSON.parse(line));
        }
      }
    });
    child.stderr.on('data', (c) => process.stderr.write(c));
    child.on('exit', (code) => reject(new Error(`the SMTP sink exited (${code})`)));
  });
}
