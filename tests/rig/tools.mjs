// Tools the task tests drive: real ones where this machine has them, recording
// stubs for `docker` (no daemon here) and `helm` (not installable).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export function hasTool(name) {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Skips the test without the tool, except in CI, where .ci/run installs it: there it fails. */
export function requireTool(t, ...names) {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`CI is missing ${missing.join(', ')}: .ci/run must install it`);
  t.skip(`${missing.join(', ')} not installed`);
  return false;
}

/**
 * Writes an executable `name` into `binDir` that records each call (argv,
 * stdin, selected environment, which of `watchFiles` exist) to
 * `<binDir>/<name>.calls.jsonl` and then behaves as `behaviour` says.
 * `behaviour` is the source of a JS function `(argv, stdin, env) => ({ stdout, stderr, code, splitAtByte })`;
 * with `splitAtByte` standard output is written in two pieces split at that byte.
 */
export function recordingStub(binDir, name, behaviour = '() => ({ code: 0 })', { recordEnv = [] } = {}) {
  fs.mkdirSync(binDir, { recursive: true });
  const log = path.join(binDir, `${name}.calls.jsonl`);
  const script = `#!${process.execPath}
const fs = require('fs');
const argv = process.argv.slice(2);
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
const env = {};
for (const key of ${JSON.stringify(recordEnv)}) env[key] = process.env[key];
const files = {};
for (const key of ${JSON.stringify(recordEnv)}) {
  const value = process.env[key];
  if (value) files[key] = fs.existsSync(value) ? fs.readFileSync(value, 'utf8') : null;
}
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv, stdin, env, files }) + '\\n');
const result = (${behaviour})(argv, stdin, process.env) || {};
if (result.stdout && result.splitAtByte) {
  // Two separate writes with a pause: the task reads them as two chunks.
  const bytes = Buffer.from(result.stdout);
  fs.writeSync(1, bytes.subarray(0, result.splitAtByte));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  fs.writeSync(1, bytes.subarray(result.splitAtByte));
} else if (result.stdout) process.stdout.write(result.stdout);
if (result.stderr) process.stderr.write(result.stderr);
process.exitCode = result.code || 0;
`;
  const file = path.join(binDir, name);
  fs.writeFileSync(file, script, { mode: 0o755 });
  return {
    file,
    calls: () => (fs.existsSync(log)
      ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
      : []),
  };
}

/** PATH with `binDir` first, for steps that should find the stubs. */
export function pathWith(binDir) {
  return `${binDir}${path.delimiter}${process.env.PATH}`;
}
