#!/usr/bin/env node
// npm run bench [-- --runs N]
// Measures the packaged tasks (it builds nothing: run `npm run package` first):
// cold start of each handler as the agent runs it against the floor of
// `node -e 0`, wasm instantiation, bundle and Dockerfile processing inside one
// process, and sizes. Prints a table per part and writes bench-results.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { buildDir, coreName, root, taskNames, vsixContentsDir, wasmOutDir } from './package.mjs';
import { Job, taskDir } from '../tests/rig/agent.mjs';
import { makeBundle } from '../tests/rig/bundles.mjs';
import { pathWith } from '../tests/rig/tools.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 21;
const KiB = 1024;
const TARGETS = { coldStartOverFloorMs: 60, msrLoginOverFloorMs: 40, vsixBytes: 1024 * KiB, wasmBytes: 300 * KiB };

if (!fs.existsSync(vsixContentsDir)) {
  console.error(`bench: ${vsixContentsDir} is missing: run \`npm run package\` first`);
  process.exit(1);
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), runs: sorted.length };
}

const round = (n, digits = 1) => Number(n.toFixed(digits));

function timeSpawn(argv, options) {
  const started = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, result };
}

// ---- cold start ----------------------------------------------------------

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mke-bench-'));
const bin = path.join(work, 'bin');
// Shell stubs, not the tests' recording Node stubs: a Node start per tool call
// would measure Node, not the task.
fs.mkdirSync(bin);
const shellStub = (name, body) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
shellStub('docker', `[ "$1" = push ] && echo "latest: digest: sha256:${'ab'.repeat(32)} size: 528"; exit 0`);
shellStub('helm', `case "$1" in
  version) echo v3.16.4+g7877b45 ;;
  status) echo '{"name":"web","version":4,"info":{"status":"deployed"}}' ;;
esac
exit 0`);
const stubPath = pathWith(bin);

const bundle = await makeBundle(path.join(work, 'bundle'), { generation: '3.2' });
const kubeconfig = path.join(work, 'kube.yml');
fs.writeFileSync(kubeconfig, bundle.files['kube.yml'], { mode: 0o600 });
const job = new Job({ env: { PATH: stubPath }, sourceFiles: {
  Dockerfile: 'ARG DOTNET_VERSION=8.0\nFROM scratch AS build\nARG COMMIT_ID\nCOPY . /src\n'
    + 'FROM scratch AS runtime\nARG COMMIT_ID\nLABEL commit=$COMMIT_ID\nCOPY --from=build /src /app\n',
} });
const scenarios = {
  'MsrLogin (no verification)': ['MsrLogin', {
    registry: 'msr.example.com', username: 'azure-devops', accessToken: 'bench-token', verifyCredentials: 'false',
  }],
  'MsrBuildPush (docker stub)': ['MsrBuildPush', {
    repository: 'msr.example.com/web/techorama', tags: '{{sha}}\n{{branch}}', buildArgs: 'DOTNET_VERSION=8.0',
  }],
  'MkeClientBundle (UCP 3.2+ bundle)': ['MkeClientBundle', { bundle: bundle.zip }],
  'MkeHelmDeploy (helm stub, bundle)': ['MkeHelmDeploy', {
    bundle: bundle.zip, releaseName: 'web', chart: './chart', imageTag: '{{sha}}',
  }],
  // Without a bundle nothing is extracted.
  'MkeHelmDeploy (helm stub, kubeconfig)': ['MkeHelmDeploy', {
    kubeconfig, releaseName: 'web', chart: './chart', imageTag: '{{sha}}',
  }],
};
// What any task-lib task pays before its own code runs: task-lib alone, bundled and
// minified as the tasks are, loading MsrLogin's inputs (it reads and encrypts them on load).
const taskLibAlone = path.join(work, 'task-lib-alone.js');
const esbuild = await import('esbuild');
await esbuild.build({
  stdin: { contents: "require('azure-pipelines-task-lib/task');", resolveDir: root },
  outfile: taskLibAlone, bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, logLevel: 'warning',
});
const FLOOR = 'node -e 0 (floor)';
const commands = {
  // The same environment as the tasks: Node's start-up depends on it (NODE_EXTRA_CA_CERTS alone costs ~40 ms).
  [FLOOR]: { argv: [process.execPath, '-e', '0'], env: job.environment('MsrLogin', {}) },
  'task-lib alone (bundled)': { argv: [process.execPath, taskLibAlone], env: job.environment('MsrLogin', { inputs: scenarios['MsrLogin (no verification)'][1] }) },
};
for (const [label, [task, inputs]] of Object.entries(scenarios)) {
  commands[label] = {
    argv: [process.execPath, path.join(taskDir(task), 'index.js')],
    env: job.environment(task, { inputs }),
    task,
  };
}
const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
// Interleaved: each round runs every command once, so drift hits all alike.
for (let round = 0; round < runs + 2; round++) {
  for (const [label, { argv, env, task }] of Object.entries(commands)) {
    const { ms, result } = timeSpawn(argv, { env, cwd: job.sourcesDirectory });
    const out = result.stdout.toString();
    if (task && !out.includes('task.complete result=Succeeded')) {
      throw new Error(`${label} did not succeed:\n${out}\n${result.stderr}`);
    }
    if (round >= 2) samples[label].push(ms); // the first rounds warm the file cache
  }
}
job.dispose();
const floor = stats(samples[FLOOR]).median;
const coldStart = Object.entries(samples).map(([label, s]) => {
  const st = stats(s);
  const over = st.median - floor;
  const target = label.startsWith('MsrLogin') ? TARGETS.msrLoginOverFloorMs : TARGETS.coldStartOverFloorMs;
  return {
    scenario: label, medianMs: round(st.median), p10Ms: round(st.p10), p90Ms: round(st.p90),
    overFloorMs: round(over), ...(commands[label].task ? { targetOverFloorMs: target, ratio: round(over / target, 2) } : {}),
  };
});

// ---- inside one process ----------------------------------------------------

const glue = (task) => path.join(wasmOutDir, coreName(task), `${coreName(task)}.js`);

/** require() of a task's glue reads, compiles and instantiates its .wasm. */
const instantiation = taskNames().map((task) => {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const { result } = timeSpawn([process.execPath, '-e',
      `const t=process.hrtime.bigint();require(${JSON.stringify(glue(task))});`
      + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))'], {});
    times.push(Number(result.stdout.toString()));
  }
  const st = stats(times);
  return { task, medianMs: round(st.median, 2), p10Ms: round(st.p10, 2), p90Ms: round(st.p90, 2) };
});

function timeInProcess(fn) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return stats(times);
}

/** A realistic bundle with `entries` files: the real ones plus PEM-sized extras. */
async function bundleWithEntries(entries) {
  const zip = new JSZip();
  const add = (name, content) => zip.file(name, content, { createFolders: false });
  for (const [name, content] of Object.entries(bundle.files)) add(name, content);
  const filler = bundle.files['cert.pem'];
  for (let i = Object.keys(zip.files).length; i < entries; i++) add(`tls/extra/cert-${i}.pem`, filler);
  const bytes = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  const contents = await Promise.all(Object.values(zip.files).filter((f) => !f.dir).map((f) => f.async('nodebuffer')));
  const uncompressed = contents.reduce((n, b) => n + b.length, 0);
  return { bytes, uncompressed };
}

const bundleCore = createRequire(import.meta.url)(glue('MkeClientBundle'));
const bundleProcessing = [];
for (const entries of [10, 50, 256]) {
  const { bytes, uncompressed } = await bundleWithEntries(entries);
  const zipFile = path.join(work, `bundle-${entries}.zip`);
  fs.writeFileSync(zipFile, bytes);
  const request = {
    inputName: 'bundle', directory: path.join(work, 'x'), expiryWarningDays: 14,
    nowEpochSeconds: Math.floor(Date.now() / 1000), given: true, size: bytes.length, regularFile: true,
  };
  const core = timeInProcess(() => bundleCore.planBundle(request, bytes));
  const unzipTimes = [];
  for (let i = 0; i < runs; i++) {
    const out = fs.mkdtempSync(path.join(work, 'unzip-'));
    unzipTimes.push(timeSpawn(['unzip', '-q', zipFile, '-d', out], {}).ms);
    fs.rmSync(out, { recursive: true });
  }
  const unzip = stats(unzipTimes);
  bundleProcessing.push({
    entries, zipKiB: round(bytes.length / KiB), uncompressedKiB: round(uncompressed / KiB),
    coreMs: round(core.median, 2), coreMBps: round(uncompressed / 1e6 / (core.median / 1e3)),
    unzipCliMs: round(unzip.median, 2), unzipCliMBps: round(uncompressed / 1e6 / (unzip.median / 1e3)),
  });
}

function dockerfileOf(lines) {
  const out = ['# syntax=docker/dockerfile:1', 'ARG BASE_IMAGE=mcr.microsoft.com/dotnet/sdk:8.0', 'ARG DOTNET_VERSION=8.0'];
  for (let stage = 0; out.length < lines - 12; stage++) {
    out.push(`FROM \${BASE_IMAGE} AS stage${stage}`, 'ARG DOTNET_VERSION', `ARG COMPONENT_${stage}=component-${stage}`,
      'WORKDIR /src', `COPY src/component-${stage}/ ./`);
    for (let i = 0; i < 20; i++) {
      out.push(`RUN dotnet build -c Release /p:Version=\${DOTNET_VERSION:-8.0} \\`, `    --output /out/\${COMPONENT_${stage}}/${i} \\`,
        '    && echo "built" # a comment');
    }
  }
  out.push('FROM mcr.microsoft.com/dotnet/aspnet:8.0 AS runtime', 'ARG COMMIT_ID', 'LABEL commit=$COMMIT_ID',
    'COPY --from=stage0 /out /app', 'ENTRYPOINT ["dotnet", "app.dll"]');
  return out.join('\n');
}
const buildCore = createRequire(import.meta.url)(glue('MsrBuildPush'));
const dockerfile = dockerfileOf(500);
const analysis = buildCore.analyseDockerfile({ text: dockerfile, buildArgs: { COMMIT_ID: 'abc1234' } });
const dockerfileTime = timeInProcess(() => buildCore.analyseDockerfile({ text: dockerfile, buildArgs: { COMMIT_ID: 'abc1234' } }));
const dockerfileAnalysis = {
  lines: dockerfile.split('\n').length, stages: analysis.stages.length, findings: analysis.findings.length,
  medianMs: round(dockerfileTime.median, 3), p10Ms: round(dockerfileTime.p10, 3), p90Ms: round(dockerfileTime.p90, 3),
};

// ---- sizes -------------------------------------------------------------------

const dirBytes = (dir) => fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, String(f)))
  .filter((f) => fs.statSync(f).isFile()).reduce((n, f) => n + fs.statSync(f).size, 0);
const distDir = process.env.MKE_BUILD_DIR ? path.join(buildDir, 'dist') : path.join(root, 'dist');
const vsix = fs.readdirSync(distDir).filter((f) => f.endsWith('.vsix')).map((f) => path.join(distDir, f))
  .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
const sizes = [{ item: `VSIX ${path.basename(vsix)}`, KiB: round(fs.statSync(vsix).size / KiB),
  targetKiB: TARGETS.vsixBytes / KiB, ratio: round(fs.statSync(vsix).size / TARGETS.vsixBytes, 2) }];
for (const task of taskNames()) {
  const core = coreName(task);
  const size = (suffix) => fs.statSync(path.join(wasmOutDir, core, `${core}_bg${suffix}`)).size;
  sizes.push({ item: `${task}/ (task folder)`, KiB: round(dirBytes(taskDir(task)) / KiB) });
  sizes.push({ item: `${core}_bg.wasm before wasm-opt`, KiB: round(size('.unoptimised.wasm') / KiB) });
  sizes.push({ item: `${core}_bg.wasm after wasm-opt`, KiB: round(size('.wasm') / KiB),
    targetKiB: TARGETS.wasmBytes / KiB, ratio: round(size('.wasm') / TARGETS.wasmBytes, 2) });
}

fs.rmSync(work, { recursive: true, force: true });

const results = {
  date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, runs,
  coldStart, instantiation, bundleProcessing, dockerfileAnalysis, sizes,
};
console.log(`\nCold start, ${runs} interleaved runs (ratio = time over the node floor ÷ target)`);
console.table(coldStart);
console.log('wasm instantiation (require of the glue: read, compile, instantiate)');
console.table(instantiation);
console.log('Bundle processing: the core\'s whole plan in-process vs the unzip CLI (process start and file writes included)');
console.table(bundleProcessing);
console.log('Dockerfile analysis');
console.table([dockerfileAnalysis]);
console.log('Sizes (ratio = measured ÷ target)');
console.table(sizes);
const out = path.join(root, 'bench-results.json');
fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${path.relative(root, out)}`);
