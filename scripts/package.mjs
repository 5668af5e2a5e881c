#!/usr/bin/env node
// npm run package [-- --publisher <name>]
// Installs what is missing (wasm32 target, the pinned wasm-bindgen CLI, npm
// dependencies), builds the core to WebAssembly, bundles each task shim, lays
// out the extension and writes dist/<publisher>.<id>-<version>.vsix.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// MKE_BUILD_DIR lets parallel checkouts of the work build side by side.
export const buildDir = process.env.MKE_BUILD_DIR ? path.resolve(process.env.MKE_BUILD_DIR) : path.join(root, 'build');
export const wasmOutDir = path.join(buildDir, 'wasm');
/** The extension's root as tfx packages it: vss-extension.json, its assets, one folder per task. */
export const extensionRootDir = path.join(buildDir, 'extension');
/** The VSIX unpacked: what the task tests run, as the agent would. */
export const vsixContentsDir = path.join(buildDir, 'vsix');
const CRATE = 'mke_tasks';

function run(cmd, args, options = {}) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  return execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...options });
}

function output(cmd, args) {
  try {
    return execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const cargoBin = path.join(process.env.CARGO_HOME || path.join(os.homedir(), '.cargo'), 'bin');
process.env.PATH = [path.join(root, 'node_modules', '.bin'), cargoBin, process.env.PATH].join(path.delimiter);

function pinnedWasmBindgenVersion() {
  const lock = fs.readFileSync(path.join(root, 'Cargo.lock'), 'utf8');
  const match = lock.match(/\[\[package\]\]\nname = "wasm-bindgen"\nversion = "([^"]+)"/);
  if (!match) throw new Error('Cargo.lock has no wasm-bindgen entry');
  return match[1];
}

function ensureToolchain() {
  if (!fs.existsSync(path.join(root, 'Cargo.lock'))) run('cargo', ['generate-lockfile']);
  const installed = output('rustup', ['target', 'list', '--installed']) || '';
  if (!installed.split('\n').includes('wasm32-unknown-unknown')) {
    run('rustup', ['target', 'add', 'wasm32-unknown-unknown']);
  }
  // The CLI must match the library exactly. `cargo install` keeps it in
  // ~/.cargo/bin, so later builds and checkouts reuse it. Not --locked: one of
  // its locked dependencies is no longer in the registry.
  const version = pinnedWasmBindgenVersion();
  if (output('wasm-bindgen', ['--version']) !== `wasm-bindgen ${version}`) {
    run('cargo', ['install', 'wasm-bindgen-cli', '--version', `=${version}`, '--force']);
  }
  if (!fs.existsSync(path.join(root, 'node_modules', 'esbuild')) || !fs.existsSync(path.join(root, 'node_modules', 'tfx-cli'))) {
    run('npm', [fs.existsSync(path.join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund']);
  }
}

/** The cargo feature of a task: MsrBuildPush → msr-build-push. */
function taskFeature(task) {
  return task.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}

/** The name of a task's core: its .wasm is <core>_bg.wasm and its glue <core>.js, so
 *  cores of several tasks can sit in one folder. */
export function coreName(task) {
  return taskFeature(task).replaceAll('-', '_');
}

/** Builds each task's own core (only its exports, so only the code they reach) into
 *  <build>/wasm/<core>/: the wasm-bindgen glue, the .wasm before and after wasm-opt. */
function buildWasm() {
  fs.rmSync(wasmOutDir, { recursive: true, force: true });
  for (const task of taskNames()) {
    run('cargo', ['build', '--release', '--lib', '--target', 'wasm32-unknown-unknown',
      '--no-default-features', '--features', taskFeature(task)]);
    const compiled = path.join(root, 'target', 'wasm32-unknown-unknown', 'release', `${CRATE}.wasm`);
    const outDir = path.join(wasmOutDir, coreName(task));
    run('wasm-bindgen', ['--target', 'nodejs', '--out-dir', outDir, '--out-name', coreName(task), compiled]);
    const wasm = path.join(outDir, `${coreName(task)}_bg.wasm`);
    fs.copyFileSync(wasm, path.join(outDir, `${coreName(task)}_bg.unoptimised.wasm`));
    // Rust's wasm32 target emits these post-MVP features; wasm-opt must accept them.
    run('wasm-opt', ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
      '--enable-reference-types', '--enable-multivalue', '--enable-mutable-globals', wasm, '-o', wasm]);
  }
}

export function taskNames() {
  return fs.readdirSync(path.join(root, 'task'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, 'task', e.name, 'task.json')))
    .map((e) => e.name);
}

async function bundleTasks() {
  const esbuild = await import(pathToFileURL(path.join(root, 'node_modules', 'esbuild', 'lib', 'main.js')).href);
  for (const name of taskNames()) {
    const source = path.join(root, 'task', name);
    const out = path.join(extensionRootDir, name);
    const taskJson = JSON.parse(fs.readFileSync(path.join(source, 'task.json'), 'utf8'));
    const { metafile } = await esbuild.build({
      entryPoints: [path.join(source, 'index.mjs')],
      outfile: path.join(out, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
      // The wasm-bindgen glue loads its .wasm from __dirname: keep the real one.
      define: { 'import.meta.url': 'undefined' },
      metafile: true,
      absWorkingDir: root,
      // ../../build/wasm/mke_tasks.js (runtime.mjs) is the task's own core, from this build (MKE_BUILD_DIR).
      plugins: [{
        name: 'task-wasm-glue',
        setup(build) {
          build.onResolve({ filter: /\/build\/wasm\/mke_tasks\.js$/ }, () => ({
            path: path.join(wasmOutDir, coreName(name), `${coreName(name)}.js`),
          }));
        },
      }],
    });
    // Each core bundled in carries its .wasm, which its glue reads from __dirname.
    for (const input of Object.keys(metafile.inputs)) {
      const glue = path.resolve(root, input);
      if (path.dirname(path.dirname(glue)) === wasmOutDir) {
        const wasm = `${path.basename(glue, '.js')}_bg.wasm`;
        fs.copyFileSync(path.join(path.dirname(glue), wasm), path.join(out, wasm));
      }
    }
    fs.copyFileSync(path.join(source, 'task.json'), path.join(out, 'task.json'));
    fs.copyFileSync(path.join(source, 'icon.png'), path.join(out, 'icon.png'));
    // The post-job handler runs the same bundle, which sees it was started as post.js.
    if (taskJson.postjobexecution) {
      fs.writeFileSync(path.join(out, 'post.js'), "require('./index.js');\n");
    }
  }
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--publisher') options.publisher = argv[++i];
    else if (argv[i].startsWith('--publisher=')) options.publisher = argv[i].slice('--publisher='.length);
    else throw new Error(`unknown argument ${argv[i]} (expected --publisher <name>)`);
  }
  if ('publisher' in options && !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(options.publisher || '')) {
    throw new Error('--publisher needs a Marketplace publisher id (letters, digits and dashes)');
  }
  return options;
}

function stageExtensionAssets() {
  fs.rmSync(extensionRootDir, { recursive: true, force: true });
  fs.mkdirSync(extensionRootDir, { recursive: true });
  for (const item of ['vss-extension.json', 'LICENSE', 'extension']) {
    fs.cpSync(path.join(root, item), path.join(extensionRootDir, item), { recursive: true });
  }
}

function createVsix({ publisher }) {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'vss-extension.json'), 'utf8'));
  const distDir = process.env.MKE_BUILD_DIR ? path.join(buildDir, 'dist') : path.join(root, 'dist');
  fs.mkdirSync(distDir, { recursive: true });
  const effectivePublisher = publisher || manifest.publisher;
  const vsix = path.join(distDir, `${effectivePublisher}.${manifest.id}-${manifest.version}.vsix`);
  fs.rmSync(vsix, { force: true });
  const args = ['extension', 'create', '--root', extensionRootDir, '--manifests', 'vss-extension.json',
    '--output-path', vsix, '--no-prompt', '--no-color'];
  if (publisher) args.push('--publisher', publisher);
  const log = execFileSync('tfx', args, { cwd: root, encoding: 'utf8', env: { ...process.env, TFX_TRACE: '' } });
  process.stdout.write(log);
  if (/warn/i.test(log)) throw new Error('tfx reported warnings (see above); the VSIX must package cleanly');
  if (!fs.existsSync(vsix)) throw new Error(`tfx did not write ${vsix}`);
  fs.rmSync(vsixContentsDir, { recursive: true, force: true });
  fs.mkdirSync(vsixContentsDir, { recursive: true });
  run('unzip', ['-q', vsix, '-d', vsixContentsDir]);
  return vsix;
}

export async function packageExtension(options = {}) {
  const started = Date.now();
  ensureToolchain();
  buildWasm();
  stageExtensionAssets();
  await bundleTasks();
  const vsix = createVsix(options);
  const kib = (file) => (fs.statSync(file).size / 1024).toFixed(1);
  for (const task of taskNames()) {
    const wasm = path.join(wasmOutDir, coreName(task), `${coreName(task)}_bg`);
    console.log(`${coreName(task)}_bg.wasm: ${kib(`${wasm}.unoptimised.wasm`)} KiB before wasm-opt, ${kib(`${wasm}.wasm`)} KiB after`);
  }
  console.log(`VSIX: ${path.relative(root, vsix)} (${kib(vsix)} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return vsix;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await packageExtension(parseArgs(process.argv.slice(2)));
  } catch (error) {
    console.error(`package: ${error.message}`);
    process.exit(1);
  }
}
