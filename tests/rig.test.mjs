// The test rig itself: logging-command parsing and the registry fixture.
import assert from 'node:assert/strict';
import https from 'node:https';
import test from 'node:test';
import { parseCommand, readReport } from './rig/agent.mjs';
import { startRegistry } from './rig/registry.mjs';
import { requireTool } from './rig/tools.mjs';

test('parses logging commands anywhere in a line with the agent escaping rules', () => {
  const c = parseCommand('prefix ##vso[task.setvariable variable=a%3Bb;isOutput=true]x%AZP250A%0Ay');
  assert.deepEqual(c, { name: 'task.setvariable', properties: { variable: 'a;b', isoutput: 'true' }, data: 'x%0A\ny' });
  assert.equal(parseCommand('## heading'), null);
  const report = readReport('##vso[task.complete result=Failed;]bad\n', '##vso[task.setsecret]s3cret\n');
  assert.equal(report.result, 'Failed');
  assert.deepEqual(report.secrets, ['s3cret']);
});

test('the registry fixture serves TLS with htpasswd users', async (t) => {
  if (!requireTool(t, 'docker-registry', 'openssl', 'htpasswd')) return;
  const registry = await startRegistry({ users: { ci: 'pw' } });
  t.after(() => registry.stop());
  const status = (auth) => new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: registry.port, path: '/v2/', ca: registry.caPem, auth }, (r) => {
      r.resume();
      resolve([r.statusCode, r.headers['www-authenticate']]);
    }).on('error', reject);
  });
  assert.deepEqual(await status(), [401, 'Basic realm="test-registry"']);
  assert.equal((await status('ci:pw'))[0], 200);
  assert.equal((await status('ci:wrong'))[0], 401);
});
