#!/usr/bin/env node
// npm test: the core's native tests, a compile check of the fuzz targets, the wasm
// build and packaging, then the task-level tests that run each packaged task the
// way the agent does.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageExtension, root } from './package.mjs';

function run(cmd, args) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: 'inherit', cwd: root });
}

try {
  run('cargo', ['test', '--quiet']);
  // The fuzz targets call the core's API: they must keep compiling (npm run fuzz runs them).
  run('cargo', ['check', '--quiet', '--bins', '--manifest-path', path.join('fuzz', 'Cargo.toml')]);
  await packageExtension();
  const tests = fs.readdirSync(path.join(root, 'tests'))
    .filter((f) => f.endsWith('.test.mjs'))
    .map((f) => path.join('tests', f));
  run(process.execPath, ['--test', '--test-reporter=spec', ...tests]);
} catch (error) {
  console.error(`test: ${error.message}`);
  process.exit(1);
}
