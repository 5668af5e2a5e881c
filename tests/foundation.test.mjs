// Every packaged task is complete on disk and runs under the agent rig.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { Job, taskDir, taskJson, vsixDir } from './rig/agent.mjs';

// Each task's input without which it cannot start.
const REQUIRED = { MsrLogin: 'registry', MsrBuildPush: 'repository', MkeClientBundle: 'bundle', MkeHelmDeploy: 'releaseName' };
const TASKS = Object.keys(REQUIRED);
// The one .wasm core each task folder carries (MkeHelmDeploy's includes the bundle reader).
const CORES = {
  MsrLogin: 'msr_login', MsrBuildPush: 'msr_build_push', MkeClientBundle: 'mke_client_bundle', MkeHelmDeploy: 'mke_helm_deploy',
};

for (const task of TASKS) {
  test(`${task}: the VSIX folder is self-contained`, () => {
    const files = fs.readdirSync(taskDir(task)).sort();
    const json = taskJson(task);
    const expected = ['icon.png', 'index.js', 'task.json', `${CORES[task]}_bg.wasm`];
    if (json.postjobexecution) expected.push('post.js');
    assert.deepEqual(files, expected.sort());
    assert.deepEqual(Object.keys(json.execution), ['Node20_1', 'Node24']);
    if (json.postjobexecution) assert.deepEqual(Object.keys(json.postjobexecution), ['Node20_1', 'Node24']);
    assert.equal(json.minimumAgentVersion, '3.232.1');
    for (const input of json.inputs) assert.ok(input.helpMarkDown, `${task}.${input.name} has help`);
  });

  test(`${task}: the classic editor shows grouped, explained inputs`, () => {
    const json = taskJson(task);
    const names = json.inputs.map((i) => i.name);
    const groups = json.groups.map((g) => g.name);
    for (const input of json.inputs) {
      const where = `${task}.${input.name}`;
      assert.ok(groups.includes(input.groupName), `${where} is in a declared group, not '${input.groupName}'`);
      // The convention: "for example" and a backticked value in the same sentence.
      assert.match(input.helpMarkDown, /for example[^.]*`[^`]+`/i, `${where}: the help gives an example`);
      if (input.type === 'pickList') {
        const options = Object.keys(input.options || {});
        assert.ok(options.length > 0, `${where} has options`);
        const editable = input.properties?.EditableOptions === 'True';
        if (!editable && input.defaultValue) assert.ok(options.includes(input.defaultValue), `${where}: the default is an option`);
      }
      if (input.visibleRule) {
        // The format the server accepts when the extension is uploaded: "input op value" with a
        // non-empty value, rules joined by one kind of && or ||.
        const joiner = input.visibleRule.includes('&&') ? '&&' : '||';
        for (const rule of input.visibleRule.split(joiner)) {
          const match = /^\s*(\w+) (==|=|!=|<=|>=|<|>|Contains|NotContains|StartsWith|EndsWith) ([A-Za-z0-9.]+)\s*$/.exec(rule);
          assert.ok(match, `${where}: visibleRule '${rule}' has the form "input = value"`);
          assert.ok(names.includes(match[1]) && match[1] !== input.name, `${where}: visibleRule names another input`);
        }
      }
    }
    for (const group of groups) assert.ok(json.inputs.some((i) => i.groupName === group), `${task}: group '${group}' is used`);
    for (const [, name] of json.instanceNameFormat.matchAll(/\$\((\w+)\)/g)) {
      assert.ok(names.includes(name), `${task}: instanceNameFormat names the input '${name}'`);
    }
  });

  test(`${task}: a missing required input fails the step and names the input`, async () => {
    const job = new Job();
    try {
      const report = await job.step(task, { inputs: { [REQUIRED[task]]: '' } });
      assert.equal(report.result, 'Failed');
      assert.match(report.message, new RegExp(`Input '${REQUIRED[task]}'`));
      assert.deepEqual(report.errors, [report.message]);
      assert.deepEqual(job.leftInTemp(), []);
    } finally {
      job.dispose();
    }
  });
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file) {
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', `${file} is a PNG`);
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

test('the icons are square PNGs, small, and one of a kind per task', () => {
  const icons = [...TASKS.map((task) => path.join(taskDir(task), 'icon.png')), path.join(vsixDir, 'extension', 'icon.png')];
  for (const icon of icons) {
    const [width, height] = pngSize(icon);
    assert.ok(width === height && width >= 32, `${icon} is square and at least 32 px`);
    assert.ok(fs.statSync(icon).size < 10 * 1024, `${icon} is under 10 KiB`);
  }
  assert.equal(pngSize(icons.at(-1))[0], 128, 'the Marketplace icon is 128 px');
  assert.equal(new Set(icons.map((f) => fs.readFileSync(f).toString('base64'))).size, icons.length, 'no icon is reused');
});

test('the extension manifest lists every task folder', () => {
  const manifest = fs.readFileSync(path.join(vsixDir, 'extension.vsomanifest'), 'utf8');
  for (const task of TASKS) assert.match(manifest, new RegExp(`"name":"${task}"|${task}`));
});
