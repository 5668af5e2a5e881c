// What every task shim shares: reading inputs and agent variables, a workspace
// under Agent.TempDirectory that is removed when the step fails, running tools
// with their output made safe, reporting results, outputs and the summary.
// Decisions belong to the core (../../src); this file only carries them out.
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import './wasm-engine.mjs';
import * as tl from 'azure-pipelines-task-lib/task';
import * as taskLibInternal from 'azure-pipelines-task-lib/internal';
import * as core from '../../build/wasm/mke_tasks.js';

export { tl, core };

/** Every input task.json declares, as the agent passed it (defaults applied).
 *  An empty filePath input arrives as the sources directory; it is null here.
 *  `secret` inputs are registered as secrets and read without task-lib's
 *  `name=value` debug line, which would print them before registration. */
export function readInputs({ secret = [] } = {}) {
  const taskJson = JSON.parse(fs.readFileSync(path.join(__dirname, 'task.json'), 'utf8'));
  const inputs = {};
  for (const { name, type } of taskJson.inputs) {
    if (secret.includes(name)) inputs[name] = readSecret(`INPUT_${taskLibInternal._getVariableKey(name)}`);
    else if (type === 'filePath') inputs[name] = tl.filePathSupplied(name) ? tl.getPathInput(name) : null;
    else inputs[name] = tl.getInput(name) ?? null;
  }
  return inputs;
}

/** A service connection's secret parameter (a password), registered, with no debug echo. */
export function readEndpointSecret(id, key) {
  return readSecret(`ENDPOINT_AUTH_PARAMETER_${id}_${key.toUpperCase()}`);
}

function readSecret(vaultKey) {
  const value = taskLibInternal._vault.retrieveSecret(vaultKey) ?? null;
  registerSecret(value);
  return value;
}

export function agentTempDirectory() {
  const dir = tl.getVariable('Agent.TempDirectory');
  if (!dir) throw new Error('Agent.TempDirectory is not set: this task runs on an Azure Pipelines agent.');
  return dir;
}

/** The build facts the template tokens use. `git rev-parse HEAD` stands in for
 *  Build.SourceVersion when the agent did not set it. */
export function buildInfo() {
  let sourceVersion = tl.getVariable('Build.SourceVersion') || null;
  const sourcesDirectory = tl.getVariable('Build.SourcesDirectory');
  if (!sourceVersion && sourcesDirectory) {
    try {
      sourceVersion = execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd: sourcesDirectory, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || null;
    } catch {
      sourceVersion = null;
    }
  }
  return {
    sourceVersion,
    sourceBranch: tl.getVariable('Build.SourceBranch') || null,
    buildId: tl.getVariable('Build.BuildId') || null,
    buildNumber: tl.getVariable('Build.BuildNumber') || null,
    nowEpochSeconds: Math.floor(Date.now() / 1000),
  };
}

/** Registers a secret with the agent before anything can print it. Multi-line
 *  values (private keys) are registered line by line, as the agent masks lines. */
export function registerSecret(value) {
  if (!value) return;
  for (const line of String(value).split(/\r\n|\r|\n/)) {
    if (line.trim()) tl.setSecret(line);
  }
}

/** Directories the step creates under Agent.TempDirectory (mode 0700). All are
 *  removed when the step fails; only those marked `keep` survive success. */
class Workspace {
  #created = [];

  directory(prefix, { keep = false } = {}) {
    const dir = fs.mkdtempSync(path.join(agentTempDirectory(), `${prefix}-`));
    fs.chmodSync(dir, 0o700);
    this.#created.push({ dir, keep });
    return dir;
  }

  cleanUp(succeeded) {
    for (const { dir, keep } of this.#created) {
      if (!(keep && succeeded)) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/** Runs the main step (or, from post.js, the post-job step) of a task. */
export function startTask({ main, postJob }) {
  const isPostJob = path.basename(process.argv[1] || '') === 'post.js';
  return isPostJob ? runPostJob(postJob) : runMain(main);
}

async function runMain(main) {
  const workspace = new Workspace();
  let succeeded = false;
  try {
    await main(workspace);
    succeeded = true;
  } catch (error) {
    tl.setResult(tl.TaskResult.Failed, messageOf(error));
  } finally {
    workspace.cleanUp(succeeded);
  }
  if (succeeded) tl.setResult(tl.TaskResult.Succeeded, '');
}

/** A post-job step never fails the job: problems become warnings. */
async function runPostJob(postJob) {
  try {
    await postJob();
  } catch (error) {
    tl.warning(`Post-job clean-up: ${messageOf(error)}`);
  }
  tl.setResult(tl.TaskResult.Succeeded, '');
}

/** Streams a child's output line by line with logging commands neutralised. */
function safeLineWriter(target, capture) {
  let pending = '';
  // A character split between two chunks must not become U+FFFD.
  const decoder = new StringDecoder('utf8');
  const emit = (line) => target.write(`${core.neutraliseLogLine(line)}\n`);
  return {
    write(chunk) {
      const text = pending + decoder.write(chunk);
      if (capture) capture.push(chunk);
      const lines = text.split('\n');
      pending = lines.pop();
      for (const line of lines) emit(line);
    },
    end() {
      pending += decoder.end();
      if (pending) emit(pending);
      pending = '';
    },
  };
}

/** Prints a line of the task's own. Its text can come from a bundle or a registry's
 *  answer, so it cannot issue logging commands either. */
export function log(line) {
  console.log(core.neutraliseLogLine(line));
}

function displayCommand(argv) {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
}

/**
 * Runs `argv` (decided by the core) with live, neutralised output.
 * `stdin` is written to the tool's standard input (tokens go there, never into
 * arguments); `quiet` captures standard output without echoing it; `silent`
 * captures standard error too (probes whose failure is an answer, not news).
 * Resolves to { code, stdout, stderr } (stderr is empty unless silent). A tool that
 * cannot be started rejects, or with `startFailure` resolves to { code: null,
 * startFailure: 'ENOENT' | 'EACCES' | ... } for the core to explain.
 */
export function runTool(argv, { stdin, quiet = false, silent = false, env, cwd, startFailure = false } = {}) {
  // Arguments can carry pipeline text (a label from a commit message): they cannot issue commands either.
  log(`[command]${displayCommand(argv)}`);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd, env: env ?? process.env, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const captured = [];
    const capturedErr = [];
    const out = quiet || silent ? { write: (c) => captured.push(c), end() {} } : safeLineWriter(process.stdout, captured);
    const err = silent ? { write: (c) => capturedErr.push(c), end() {} } : safeLineWriter(process.stderr);
    child.stdout.on('data', (c) => out.write(c));
    child.stderr.on('data', (c) => err.write(c));
    child.on('error', (error) => {
      if (startFailure) resolve({ code: null, startFailure: error.code ?? error.message, stdout: '', stderr: '' });
      else reject(error.code === 'ENOENT' ? new Error(`${argv[0]} was not found on the agent's PATH.`) : error);
    });
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(captured).toString('utf8'),
        stderr: Buffer.concat(capturedErr).toString('utf8'),
      });
    });
    if (stdin !== undefined) {
      child.stdin.on('error', () => {}); // a tool that exits early closes the pipe
      child.stdin.end(stdin);
    }
  });
}

export function setOutputs(outputs) {
  for (const [name, value] of Object.entries(outputs)) {
    if (value !== null && value !== undefined) tl.setVariable(name, String(value), false, true);
  }
}

/** Uploads the markdown summary the core rendered. The agent reads the file
 *  after the step ends, so it lives in the job's own summaries folder. */
export function uploadSummary(markdown) {
  const dir = path.join(agentTempDirectory(), 'mke-msr-summaries');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${randomUUID()}.md`);
  fs.writeFileSync(file, markdown, { mode: 0o600 });
  tl.uploadSummary(file);
}
