// An Azure Pipelines agent in miniature: runs a packaged task the way the agent
// does (`node <handler target>` with INPUT_*, SECRET_*, ENDPOINT_* and the agent
// and build variables in the environment) and reads back every logging command.
//
// Faithful to microsoft/azure-pipelines-agent where tasks can tell the difference:
// - task.json defaults are applied; a filePath input is rooted at the sources
//   directory, so an empty one arrives as the sources directory itself;
// - `$(name)` macros in inputs expand from the job's variables (secrets too);
// - secret variables reach the task only as SECRET_<NAME>;
// - `##vso[` is recognised anywhere in a line, on stdout and stderr alike;
// - output variables are visible to later steps as <step>.<name>, task
//   variables only to the same task's post-job step.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The unpacked VSIX (written by `npm run package`). */
export const vsixDir = path.join(process.env.MKE_BUILD_DIR || path.join(repoRoot, 'build'), 'vsix');

export function taskDir(task) {
  const dir = path.join(vsixDir, task);
  if (!fs.existsSync(path.join(dir, 'task.json'))) {
    throw new Error(`${dir} has no task.json: run \`npm run package\` first`);
  }
  return dir;
}

export function taskJson(task) {
  return JSON.parse(fs.readFileSync(path.join(taskDir(task), 'task.json'), 'utf8'));
}

/** The agent's environment key for a variable or input name. */
export function envKey(name) {
  return name.replace(/[.\s]/g, '_').toUpperCase();
}

function unescapeData(text) {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%AZP25/g, '%');
}

function unescapeProperty(text) {
  return text.replace(/%3B/g, ';').replace(/%5D/g, ']').replace(/%0D/g, '\r').replace(/%0A/g, '\n')
    .replace(/%AZP25/g, '%');
}

/** Parses one output line into a logging command, as the agent does. */
export function parseCommand(line) {
  const start = line.toLowerCase().indexOf('##vso[');
  if (start < 0) return null;
  const rest = line.slice(start + 6);
  const close = rest.indexOf(']');
  if (close < 0) return null;
  const head = rest.slice(0, close);
  const space = head.indexOf(' ');
  const name = (space < 0 ? head : head.slice(0, space)).toLowerCase();
  const properties = {};
  if (space >= 0) {
    for (const pair of head.slice(space + 1).split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0) properties[pair.slice(0, eq).trim().toLowerCase()] = unescapeProperty(pair.slice(eq + 1));
    }
  }
  return { name, properties, data: unescapeData(rest.slice(close + 1)) };
}

const truthy = (v) => String(v).toLowerCase() === 'true';

/** Everything a step reported, as the agent would have recorded it. */
export function readReport(stdout, stderr) {
  const report = {
    stdout, stderr, commands: [], result: null, message: null, variables: {}, taskVariables: {},
    secrets: [], issues: [], errors: [], warnings: [], summaries: [], prependPath: [],
  };
  for (const line of `${stdout}\n${stderr}`.split(/\r?\n/)) {
    const command = parseCommand(line);
    if (!command) continue;
    report.commands.push(command);
    const { name, properties: p, data } = command;
    if (name === 'task.complete') {
      report.result = p.result || 'Succeeded';
      report.message = data;
    } else if (name === 'task.setvariable') {
      report.variables[p.variable] = { value: data, isSecret: truthy(p.issecret), isOutput: truthy(p.isoutput) };
      if (truthy(p.issecret)) report.secrets.push(data);
    } else if (name === 'task.settaskvariable') {
      report.taskVariables[p.variable] = { value: data, isSecret: truthy(p.issecret) };
      if (truthy(p.issecret)) report.secrets.push(data);
    } else if (name === 'task.setsecret') {
      report.secrets.push(data);
    } else if (name === 'task.logissue' || name === 'task.issue') {
      report.issues.push({ type: p.type, message: data });
      (p.type === 'error' ? report.errors : report.warnings).push(data);
    } else if (name === 'task.uploadsummary') {
      report.summaries.push(data);
    } else if (name === 'task.prependpath') {
      report.prependPath.push(data);
    }
  }
  report.outputs = Object.fromEntries(Object.entries(report.variables)
    .filter(([, v]) => v.isOutput).map(([k, v]) => [k, v.value]));
  return report;
}

/**
 * A job on a fresh agent: its own work folder with temp and sources
 * directories, job variables that steps read and set, and post-job steps run
 * in reverse order by finish().
 */
export class Job {
  constructor({ variables = {}, secrets = {}, env = {}, sourceFiles = {} } = {}) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-job-'));
    this.tempDirectory = path.join(this.root, '_temp');
    this.sourcesDirectory = path.join(this.root, 's');
    this.home = path.join(this.root, 'home');
    for (const dir of [this.tempDirectory, this.sourcesDirectory, this.home]) fs.mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(sourceFiles)) this.writeSource(file, content);
    this.env = env;
    this.variables = {
      'Agent.TempDirectory': this.tempDirectory,
      'Agent.WorkFolder': this.root,
      'Agent.BuildDirectory': this.root,
      'Agent.Version': '4.264.2',
      'Agent.OS': 'Linux',
      'Agent.JobName': 'Job',
      'Build.SourcesDirectory': this.sourcesDirectory,
      'System.DefaultWorkingDirectory': this.sourcesDirectory,
      'Build.SourceVersion': '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b',
      'Build.SourceBranch': 'refs/heads/main',
      'Build.SourceBranchName': 'main',
      'Build.BuildId': '1234',
      'Build.BuildNumber': '20261203.1',
      'Build.DefinitionName': 'web-ci',
      'Build.Repository.Name': 'techorama',
      'Build.Repository.Uri': 'https://dev.azure.com/contoso/web/_git/techorama',
      'System.TeamFoundationCollectionUri': 'https://dev.azure.com/contoso/',
      'System.TeamProject': 'web',
      'System.Culture': 'en-US',
      ...variables,
    };
    this.secrets = { ...secrets };
    this.postJobSteps = [];
    this.steps = [];
  }

  writeSource(relativePath, content) {
    const file = path.join(this.sourcesDirectory, relativePath);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  }

  /** Every secret the job knows: secret variables and what steps registered. */
  knownSecrets() {
    return [...Object.values(this.secrets), ...this.steps.flatMap((s) => s.report.secrets)].filter(Boolean);
  }

  expandMacros(value) {
    return String(value).replace(/\$\(([^)]+)\)/g, (whole, name) => {
      const key = Object.keys(this.secrets).find((k) => k.toLowerCase() === name.toLowerCase());
      if (key) return this.secrets[key];
      const variable = Object.keys(this.variables).find((k) => k.toLowerCase() === name.toLowerCase());
      return variable === undefined ? whole : this.variables[variable];
    });
  }

  environment(task, { inputs = {}, endpoints = {}, taskVariables = {}, env = {} }) {
    const environment = {
      PATH: process.env.PATH,
      HOME: this.home,
      LANG: 'C.UTF-8',
      ...this.env,
      ...env,
    };
    for (const [name, value] of Object.entries(this.variables)) environment[envKey(name)] = String(value);
    for (const [name, value] of Object.entries(this.secrets)) environment[`SECRET_${envKey(name)}`] = String(value);
    const given = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k.toLowerCase(), v]));
    for (const input of taskJson(task).inputs) {
      let value = given[input.name.toLowerCase()] ?? input.defaultValue ?? '';
      value = this.expandMacros(value);
      if (input.type === 'filePath') value = path.resolve(this.sourcesDirectory, value);
      environment[`INPUT_${envKey(input.name)}`] = String(value);
    }
    for (const [id, endpoint] of Object.entries(endpoints)) {
      environment[`ENDPOINT_URL_${id}`] = endpoint.url;
      environment[`ENDPOINT_AUTH_${id}`] = JSON.stringify({ scheme: endpoint.scheme, parameters: endpoint.parameters });
      environment[`ENDPOINT_AUTH_SCHEME_${id}`] = endpoint.scheme;
      for (const [key, value] of Object.entries(endpoint.parameters || {})) {
        environment[`ENDPOINT_AUTH_PARAMETER_${id}_${key.toUpperCase()}`] = value;
      }
      for (const [key, value] of Object.entries(endpoint.data || {})) {
        environment[`ENDPOINT_DATA_${id}_${key.toUpperCase()}`] = value;
      }
    }
    for (const [name, { value }] of Object.entries(taskVariables)) {
      environment[`VSTS_TASKVARIABLE_${envKey(name)}`] = value;
    }
    return environment;
  }

  /** Runs one handler of a task: resolves to the step's report. */
  async execute(task, handler, options) {
    const definition = taskJson(task)[handler];
    const target = definition?.Node20_1?.target;
    if (!target) throw new Error(`${task} has no Node20_1 ${handler} handler`);
    const started = Date.now();
    const { code, stdout, stderr } = await runNode(path.join(taskDir(task), target), this.environment(task, options),
      this.sourcesDirectory, options.timeoutMs);
    const report = readReport(stdout, stderr);
    report.exitCode = code;
    report.durationMs = Date.now() - started;
    // The agent fails a step that exits non-zero or never reports a result.
    if (!report.result) report.result = code === 0 ? 'Succeeded' : 'Failed';
    return report;
  }

  /**
   * Runs a step: `name` is its reference name (for output variables), and
   * `inputs`, `endpoints`, `env` are what the step is given.
   */
  async step(task, { name, inputs = {}, endpoints = {}, env = {}, timeoutMs } = {}) {
    const report = await this.execute(task, 'execution', { inputs, endpoints, env, timeoutMs });
    for (const [variable, { value, isSecret, isOutput }] of Object.entries(report.variables)) {
      const key = isOutput && name ? `${name}.${variable}` : variable;
      if (isSecret) this.secrets[key] = value;
      else this.variables[key] = value;
    }
    this.steps.push({ task, name, report });
    if (taskJson(task).postjobexecution) {
      this.postJobSteps.push({ task, inputs, endpoints, env, taskVariables: report.taskVariables });
    }
    return report;
  }

  /** Runs the post-job steps (last step first) and resolves to their reports. */
  async finish() {
    const reports = [];
    for (const post of this.postJobSteps.reverse()) {
      reports.push(await this.execute(post.task, 'postjobexecution', post));
    }
    this.postJobSteps = [];
    return reports;
  }

  /** Every file and directory the steps left under the job's temp directory
   *  (task-lib's own vault key, .taskkey, aside). */
  leftInTemp() {
    return listTree(this.tempDirectory).filter((f) => f !== '.taskkey');
  }

  dispose() {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export function listTree(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

function runNode(script, env, cwd, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** A one-step job, disposed afterwards unless `keep` is set. */
export async function runTask(task, { variables, secrets, env, sourceFiles, ...step } = {}) {
  const job = new Job({ variables, secrets, env, sourceFiles });
  try {
    const report = await job.step(task, step);
    report.job = job;
    return report;
  } finally {
    if (!step.keep) job.dispose();
  }
}
