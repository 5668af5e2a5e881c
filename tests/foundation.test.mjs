// Every packaged task is complete on disk and runs under the agent rig.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { Job, taskDir, taskJson, vsixDir } from './rig/agent.mjs';

// Each task's input without which it cannot start.
const REQUIRED = { MsrLogin: 'registry', MsrBuildPush: 'repository', MkeClientBundle: 'bundle', MkeHelmDeploy: 'releaseName' };
const TASKS = Object.keys(REQUIRED);

for (const task of TASKS) {
  test(`${task}: the VSIX folder is self-contained`, () => {
    const files = fs.readdirSync(taskDir(task)).sort();
    const json = taskJson(task);
    const expected = ['icon.png', 'index.js', 'mke_tasks_bg.wasm', 'task.json'];
    if (json.postjobexecution) expected.push('post.js');
    assert.deepEqual(files, expected.sort());
    assert.deepEqual(Object.keys(json.execution), ['Node20_1', 'Node24']);
    if (json.postjobexecution) assert.deepEqual(Object.keys(json.postjobexecution), ['Node20_1', 'Node24']);
    assert.equal(json.minimumAgentVersion, '3.232.1');
    for (const input of json.inputs) assert.ok(input.helpMarkDown, `${task}.${input.name} has help`);
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

test('the extension manifest lists every task folder', () => {
  const manifest = fs.readFileSync(path.join(vsixDir, 'extension.vsomanifest'), 'utf8');
  for (const task of TASKS) assert.match(manifest, new RegExp(`"name":"${task}"|${task}`));
});
