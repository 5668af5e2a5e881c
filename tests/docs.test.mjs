// Keeps the docs honest: every YAML example parses and uses only tasks and
// inputs that exist.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = process.env.MKE_BUILD_DIR ? path.resolve(process.env.MKE_BUILD_DIR) : path.join(root, 'build');
const ourTasks = Object.fromEntries(fs.readdirSync(path.join(root, 'task'))
  .filter((d) => fs.existsSync(path.join(root, 'task', d, 'task.json')))
  .map((d) => [d, JSON.parse(fs.readFileSync(path.join(root, 'task', d, 'task.json'), 'utf8'))]));
// Built-in tasks the examples use beside ours, with the inputs they pass.
const builtInTasks = { 'DownloadSecureFile@1': ['secureFile', 'retryCount', 'socketTimeout'] };

function files(dir, pattern) {
  return fs.readdirSync(dir, { recursive: true }).map(String)
    .filter((f) => pattern.test(f)).map((f) => path.join(dir, f));
}

/** Every YAML document of the docs: fenced ```yaml blocks and example files. */
function yamlDocuments() {
  const docs = [];
  for (const file of ['README.md', 'extension/overview.md', 'examples/README.md']) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const match of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
      const line = text.slice(0, match.index).split('\n').length;
      docs.push({ where: `${file}:${line}`, text: match[1] });
    }
  }
  for (const file of files(path.join(root, 'examples'), /\.ya?ml$/)) {
    if (file.includes(`${path.sep}templates${path.sep}`)) continue; // Helm templates are not YAML until rendered
    docs.push({ where: path.relative(root, file), text: fs.readFileSync(file, 'utf8') });
  }
  return docs;
}

function taskSteps(node, found = []) {
  if (Array.isArray(node)) node.forEach((n) => taskSteps(n, found));
  else if (node && typeof node === 'object') {
    if (typeof node.task === 'string') found.push(node);
    Object.values(node).forEach((n) => taskSteps(n, found));
  }
  return found;
}

test('the docs have YAML examples for every task', () => {
  const used = new Set(yamlDocuments().flatMap((d) => taskSteps(YAML.parse(d.text)).map((s) => s.task)));
  for (const name of Object.keys(ourTasks)) assert.ok(used.has(`${name}@1`), `${name}@1 has an example`);
});

for (const doc of yamlDocuments()) {
  test(`${doc.where}: parses and uses only existing tasks and inputs`, () => {
    const parsed = YAML.parse(doc.text, { strict: true, uniqueKeys: true });
    for (const step of taskSteps(parsed)) {
      const [name, major] = step.task.split('@');
      const inputs = Object.keys(step.inputs || {});
      if (ourTasks[name]) {
        assert.equal(Number(major), ourTasks[name].version.Major, `${step.task}: the version is ${ourTasks[name].version.Major}`);
        const known = ourTasks[name].inputs.map((i) => i.name);
        for (const input of inputs) assert.ok(known.includes(input), `${step.task} has no input '${input}'`);
        // Inside a block scalar '#' is text, not a comment: it would reach the task as part of a value.
        for (const [input, value] of Object.entries(step.inputs || {})) {
          const commented = String(value).split('\n').find((l) => /(^|\s)#/.test(l));
          assert.equal(commented, undefined, `${step.task} input '${input}' carries a comment into its value`);
        }
        for (const input of ourTasks[name].inputs.filter((i) => i.required)) {
          assert.ok(inputs.includes(input.name), `${step.task} needs '${input.name}'`);
        }
      } else {
        assert.ok(builtInTasks[step.task], `${step.task} is neither ours nor a known built-in task`);
        for (const input of inputs) assert.ok(builtInTasks[step.task].includes(input), `${step.task}: '${input}'`);
      }
    }
  });
}

/** Stage variables that read another stage's output: { variable, stage, job, step, output }. */
function stageOutputReferences(parsed) {
  const found = [];
  for (const stage of parsed?.stages ?? []) {
    for (const [variable, value] of Object.entries(stage.variables ?? {})) {
      const match = /^\$\[\s*stageDependencies\.(\w+)\.(\w+)\.outputs\['(\w+)\.(\w+)'\]\s*\]$/.exec(String(value));
      if (match) found.push({ variable, stage: match[1], job: match[2], step: match[3], output: match[4] });
    }
  }
  return found;
}

for (const doc of yamlDocuments()) {
  const parsed = YAML.parse(doc.text);
  const references = stageOutputReferences(parsed);
  if (!references.length) continue;
  test(`${doc.where}: every stage output it reads exists and is used`, () => {
    for (const { variable, stage, job, step, output } of references) {
      const source = parsed.stages.find((s) => s.stage === stage);
      assert.ok(source, `${variable}: there is no stage ${stage}`);
      const producer = (source.jobs ?? []).find((j) => (j.job ?? j.deployment) === job);
      assert.ok(producer, `${variable}: stage ${stage} has no job ${job}`);
      const producing = taskSteps(producer).find((s) => s.name === step);
      assert.ok(producing, `${variable}: job ${job} has no step named ${step}`);
      const outputs = ourTasks[producing.task.split('@')[0]]?.outputVariables?.map((o) => o.name) ?? [];
      assert.ok(outputs.includes(output), `${variable}: ${producing.task} has no output ${output}`);
      assert.ok(doc.text.includes(`$(${variable})`), `${variable} is defined but never used`);
    }
  });
}

// The sample Dockerfiles, with the build-args the sample pipeline passes.
const sampleDockerfiles = {
  'examples/app/Dockerfile': { DOTNET_VERSION: '8.0', COMMIT_ID: 'abc1234' },
  'examples/agent/linux/Dockerfile': {},
  'examples/agent/windows/Dockerfile': {},
};

test('every sample Dockerfile passes the Dockerfile analysis without warnings', () => {
  const core = createRequire(import.meta.url)(path.join(buildDir, 'wasm', 'msr_build_push', 'msr_build_push.js'));
  const found = files(path.join(root, 'examples'), /(^|\/)Dockerfile$/).map((f) => path.relative(root, f)).sort();
  assert.deepEqual(found, Object.keys(sampleDockerfiles).sort());
  for (const [file, buildArgs] of Object.entries(sampleDockerfiles)) {
    const analysis = core.analyseDockerfile({ text: fs.readFileSync(path.join(root, file), 'utf8'), buildArgs });
    assert.deepEqual(analysis.findings, [], file);
  }
});
