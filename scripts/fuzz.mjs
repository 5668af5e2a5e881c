#!/usr/bin/env node
// npm run fuzz -- [seconds per target, default 60] [target ...]
// Runs every cargo-fuzz target of fuzz/ for the given time, seeded from
// fuzz/seeds/<target>/, and prints executions and crashes per target.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from './package.mjs';

const fuzzDir = path.join(root, 'fuzz');

function has(cmd, args) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

function ensureTools() {
  if (!has('rustup', ['run', 'nightly', 'rustc', '--version'])) {
    execFileSync('rustup', ['toolchain', 'install', 'nightly', '--profile', 'minimal'], { stdio: 'inherit' });
  }
  if (!has('cargo', ['fuzz', '--version'])) {
    execFileSync('cargo', ['install', 'cargo-fuzz'], { stdio: 'inherit' });
  }
}

function targets() {
  const manifest = fs.readFileSync(path.join(fuzzDir, 'Cargo.toml'), 'utf8');
  return [...manifest.matchAll(/\[\[bin\]\]\s*\nname = "([^"]+)"/g)].map((m) => m[1]);
}

function fuzz(target, seconds) {
  const corpus = path.join(fuzzDir, 'corpus', target);
  fs.mkdirSync(corpus, { recursive: true });
  const seeds = path.join(fuzzDir, 'seeds', target);
  if (fs.existsSync(seeds)) fs.cpSync(seeds, corpus, { recursive: true });
  const run = spawnSync('cargo', ['+nightly', 'fuzz', 'run', '--fuzz-dir', fuzzDir, target, corpus, '--',
    `-max_total_time=${seconds}`, '-timeout=10', '-rss_limit_mb=2048', '-max_len=65536', '-print_final_stats=1'],
  { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const log = `${run.stdout}${run.stderr}`;
  fs.writeFileSync(path.join(fuzzDir, 'corpus', `${target}.log`), log);
  const executions = Number(log.match(/stat::number_of_executed_units:\s*(\d+)/)?.[1] ?? 0);
  const artifact = log.match(/Test unit written to (\S+)/)?.[1] ?? null;
  return { target, seconds, executions, crashed: run.status !== 0, artifact };
}

const args = process.argv.slice(2);
const seconds = /^\d+$/.test(args[0] ?? '') ? Number(args.shift()) : 60;
const selected = args.length ? args : targets();
ensureTools();
const results = selected.map((target) => {
  console.log(`fuzzing ${target} for ${seconds} s`);
  const result = fuzz(target, seconds);
  console.log(`  ${result.executions} executions, ${result.crashed ? `CRASH ${result.artifact ?? '(see fuzz/corpus/' + target + '.log)'}` : 'no crash'}`);
  return result;
});
console.table(results);
process.exit(results.some((r) => r.crashed) ? 1 : 0);
