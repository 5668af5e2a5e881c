// MkeHelmDeploy@1 run as the agent runs it, against a recording `helm` stub
// that answers like Helm 2, 3 or 4.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { Job } from './rig/agent.mjs';
import { makeBundle } from './rig/bundles.mjs';
import { pathWith, recordingStub, requireTool } from './rig/tools.mjs';

const SHA = '1234567e9f86d081884c7d659a2feaa0c55ad015';
const VERSION_OUTPUT = {
  2: 'Client: v2.16.1+gbbdfe5e\n',
  3: 'v3.14.0+g3fc9f4b\n',
  4: 'v4.0.0+g99cd196\n',
};

/**
 * A `helm` that answers `version` as `major`, runs `upgrade` with exit code
 * `upgradeCode` (printing a logging command that must not take effect), and
 * answers the status query with revision 3. While `upgrade` runs it records
 * whether the file after `--kubeconfig` exists, and its text.
 */
function helmStub(binDir, major, { upgradeCode = 0 } = {}) {
  const seen = path.join(binDir, 'kubeconfig-seen.jsonl');
  const behaviour = `(argv) => {
    const fs = require('fs');
    if (argv[0] === 'version') {
      // Helm 4 dropped version's --client flag.
      if (${major} === 4 && argv.includes('--client')) return { stderr: 'Error: unknown flag: --client\\n', code: 1 };
      return { stdout: ${JSON.stringify(VERSION_OUTPUT[major])} };
    }
    const status = ${upgradeCode} === 0 ? 'deployed' : 'failed';
    if (argv[0] === 'upgrade') {
      const file = argv[argv.indexOf('--kubeconfig') + 1];
      const exists = fs.existsSync(file);
      fs.appendFileSync(${JSON.stringify(seen)}, JSON.stringify({ file, exists,
        text: exists ? fs.readFileSync(file, 'utf8') : null }) + '\\n');
      return { stdout: 'Release "web" has been upgraded.\\n##vso[task.complete result=Failed]from a chart hook\\n',
        stderr: ${upgradeCode} === 0 ? '' : 'Error: UPGRADE FAILED: timed out waiting for the condition\\n',
        code: ${upgradeCode} };
    }
    if (argv[0] === 'status') {
      return { stdout: JSON.stringify({ name: argv[1], info: { status }, version: 3, namespace: 'web' }) };
    }
    if (argv[0] === 'history') {
      return { stdout: JSON.stringify([{ revision: 3, status: status.toUpperCase(), chart: 'web-0.1.0' }]) };
    }
    return { code: 64, stderr: 'unexpected call' };
  }`;
  const stub = recordingStub(binDir, 'helm', behaviour);
  return {
    ...stub,
    argvs: () => stub.calls().map((c) => c.argv),
    kubeconfigsSeen: () => (fs.existsSync(seen)
      ? fs.readFileSync(seen, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : []),
  };
}

/** A job whose PATH finds the stub, with a plain kubeconfig in the temp directory. */
function setUp(t, major, options) {
  const job = new Job({ variables: { 'Build.SourceVersion': SHA } });
  t.after(() => job.dispose());
  const binDir = path.join(job.root, 'bin');
  const helm = helmStub(binDir, major, options);
  const kubeconfig = path.join(job.tempDirectory, 'kubeconfig-secure-file');
  fs.writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\n', { mode: 0o600 });
  return { job, helm, kubeconfig, env: { PATH: pathWith(binDir) } };
}

const BASE_INPUTS = { releaseName: 'web', chart: './pipelines/helm/techorama', imageTag: '{{sha}}' };

test('Helm 3: exact commands, --set-string for a numeric sha, escaped commas, outputs and summary', async (t) => {
  const { job, helm, kubeconfig, env } = setUp(t, 3);
  const report = await job.step('MkeHelmDeploy', {
    name: 'deploy',
    env,
    inputs: {
      ...BASE_INPUTS,
      kubeconfig,
      kubeContext: 'ucp_mke:6443_ci',
      namespace: 'web',
      createNamespace: 'true',
      chartVersion: '1.4.2',
      setValues: 'ingress.allowFrom=10.0.0.0/8,192.168.0.0/16\nreplicaCount=3',
      setStringValues: 'build.id=$(Build.BuildId)',
      valueFiles: 'pipelines/helm/values-prod.yaml',
      arguments: `--description 'deploy from CI'`,
    },
  });
  assert.equal(report.result, 'Succeeded', report.message ?? report.stderr);
  assert.deepEqual(helm.argvs(), [
    ['version', '--client', '--short'],
    ['upgrade', '--install', 'web', './pipelines/helm/techorama', '--kubeconfig', kubeconfig,
      '--kube-context', 'ucp_mke:6443_ci', '--version', '1.4.2', '--namespace', 'web', '--create-namespace',
      '--atomic', '--wait', '--timeout', '5m0s', '--history-max', '10',
      '--set-string', 'image.tag=1234567',
      '--set', 'ingress.allowFrom=10.0.0.0/8\\,192.168.0.0/16', '--set', 'replicaCount=3',
      '--set-string', 'build.id=1234', '--values', 'pipelines/helm/values-prod.yaml',
      '--description', 'deploy from CI'],
    ['status', 'web', '-o', 'json', '--kubeconfig', kubeconfig, '--kube-context', 'ucp_mke:6443_ci',
      '--namespace', 'web'],
  ]);
  assert.deepEqual(report.outputs, { releaseRevision: '3', releaseStatus: 'deployed' });
  assert.equal(job.variables['deploy.releaseRevision'], '3');
  assert.equal(report.summaries.length, 1);
  const summary = fs.readFileSync(report.summaries[0], 'utf8');
  assert.match(summary, /\| Revision \| ` 3 ` \|/);
  assert.match(summary, /\| Image tag \| ` image\.tag=1234567 ` \|/);
  // The chart hook's logging command was neutralised; the user's kubeconfig is left alone.
  assert.ok(!report.commands.some((c) => c.data === 'from a chart hook'));
  assert.ok(fs.existsSync(kubeconfig));
  assert.deepEqual(report.warnings, []);
});

test('Helm 4: version probed without --client, --rollback-on-failure instead of --atomic', async (t) => {
  const { job, helm, kubeconfig, env } = setUp(t, 4);
  const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, kubeconfig, imageTag: '12e4567' } });
  assert.equal(report.result, 'Succeeded', report.message);
  assert.deepEqual(helm.argvs(), [
    ['version', '--client', '--short'],
    ['version', '--short'],
    ['upgrade', '--install', 'web', './pipelines/helm/techorama', '--kubeconfig', kubeconfig, '--rollback-on-failure',
      '--wait', '--timeout', '5m0s', '--history-max', '10', '--set-string', 'image.tag=12e4567'],
    ['status', 'web', '-o', 'json', '--kubeconfig', kubeconfig],
  ]);
  // The first probe's refusal is an answer, not news: it stays out of the log.
  assert.doesNotMatch(report.stderr + report.stdout, /unknown flag/);
  assert.deepEqual(report.outputs, { releaseRevision: '3', releaseStatus: 'deployed' });
});

test('Helm 2: Tiller namespace, timeout in seconds, no Helm 3 flags, revision from history', async (t) => {
  const { job, helm, kubeconfig, env } = setUp(t, 2);
  const report = await job.step('MkeHelmDeploy', {
    env,
    inputs: {
      ...BASE_INPUTS, kubeconfig, namespace: 'web', createNamespace: 'true', tillerNamespace: 'tiller-web',
      timeout: '10m', historyMax: '5',
    },
  });
  assert.equal(report.result, 'Succeeded', report.message);
  assert.deepEqual(helm.argvs().slice(1), [
    ['upgrade', '--install', 'web', './pipelines/helm/techorama', '--kubeconfig', kubeconfig, '--namespace', 'web',
      '--tiller-namespace', 'tiller-web', '--atomic', '--wait', '--timeout', '600', '--set-string', 'image.tag=1234567'],
    ['history', 'web', '--max', '1', '-o', 'json', '--kubeconfig', kubeconfig, '--tiller-namespace', 'tiller-web'],
  ]);
  assert.deepEqual(report.outputs, { releaseRevision: '3', releaseStatus: 'deployed' });
  assert.deepEqual(report.warnings,
    ['historyMax (5) is not passed to Helm 2: there it is a Tiller setting (helm init --history-max).']);
});

test('tillerNamespace on Helm 3 fails before anything is deployed', async (t) => {
  const { job, helm, kubeconfig, env } = setUp(t, 3);
  const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, kubeconfig, tillerNamespace: 'kube-system' } });
  assert.equal(report.result, 'Failed');
  assert.equal(report.message, "Input 'tillerNamespace': Helm 3 has no Tiller; leave this input empty (it is for Helm 2 only)");
  assert.deepEqual(helm.argvs().map((a) => a[0]), ['version']);
});

test('a failing upgrade fails the step, says so, and still reports the release status', async (t) => {
  const { job, helm, kubeconfig, env } = setUp(t, 3, { upgradeCode: 1 });
  const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, kubeconfig } });
  assert.equal(report.result, 'Failed');
  assert.equal(report.message,
    "helm upgrade of release 'web' failed with exit code 1 (see the Helm output above). The release is failed at revision 3.");
  assert.deepEqual(report.errors, [report.message]);
  assert.deepEqual(report.outputs, { releaseRevision: '3', releaseStatus: 'failed' });
  assert.match(report.stderr, /UPGRADE FAILED: timed out/);
  // The summary tells the failed run's state too.
  assert.equal(report.summaries.length, 1);
  const summary = fs.readFileSync(report.summaries[0], 'utf8');
  assert.match(summary, /\| Revision \| ` 3 ` \|/);
  assert.match(summary, /\| Status \| ` failed ` \|/);
  assert.match(summary, /\| Result \| ` helm upgrade failed with exit code 1 ` \|/);
  assert.equal(helm.argvs().length, 3);
});

test('without bundle, kubeconfig or KUBECONFIG the step fails naming the inputs and runs nothing', async (t) => {
  const { job, helm, env } = setUp(t, 3);
  const report = await job.step('MkeHelmDeploy', { env, inputs: BASE_INPUTS });
  assert.equal(report.result, 'Failed');
  assert.equal(report.message, "Input 'bundle' or 'kubeconfig': one is required when the KUBECONFIG variable is not set "
    + '(an earlier MkeClientBundle step sets it).');
  assert.deepEqual(helm.calls(), []);
  assert.deepEqual(job.leftInTemp(), ['kubeconfig-secure-file']);
});

test('a kubeconfig that does not exist fails naming the input', async (t) => {
  const { job, helm, env } = setUp(t, 3);
  const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, kubeconfig: 'missing/kube.yml' } });
  assert.equal(report.result, 'Failed');
  assert.equal(report.message, `Input 'kubeconfig': ${path.join(job.sourcesDirectory, 'missing/kube.yml')} does not exist`);
  assert.ok(!helm.argvs().some((a) => a[0] === 'upgrade'));
});

test('the KUBECONFIG variable set by an earlier step is used', async (t) => {
  const { job, helm, kubeconfig, env } = setUp(t, 3);
  job.variables.KUBECONFIG = kubeconfig; // as MkeClientBundle's exportVariables sets it
  const report = await job.step('MkeHelmDeploy', { env, inputs: BASE_INPUTS });
  assert.equal(report.result, 'Succeeded', report.message);
  assert.deepEqual(helm.kubeconfigsSeen().map((s) => [s.file, s.exists]), [[kubeconfig, true]]);
  assert.match(fs.readFileSync(report.summaries[0], 'utf8'), /KUBECONFIG variable/);
});

test('a helmPath that is not Helm fails naming the input and what it said', async (t) => {
  const { job, kubeconfig, env } = setUp(t, 3);
  const notHelm = recordingStub(path.join(job.root, 'other'), 'kubectl', "() => ({ stderr: 'error: unknown command \"version\"\\n', code: 1 })");
  const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, kubeconfig, helmPath: notHelm.file } });
  assert.equal(report.result, 'Failed');
  assert.equal(report.message, `Input 'helmPath': \`${notHelm.file} version\` failed with exit code 1 `
    + '(error: unknown command "version"); is it Helm 2, 3 or 4?');
  assert.equal(notHelm.calls().length, 2);
});

test('a helmPath that is not there fails the step naming the input', async (t) => {
  const { job, kubeconfig, env } = setUp(t, 3);
  const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, kubeconfig, helmPath: '/nonexistent/helm' } });
  assert.equal(report.result, 'Failed');
  assert.equal(report.message, "Input 'helmPath': /nonexistent/helm cannot be run (there is no such file); "
    + 'install Helm 2, 3 or 4 on the agent or give the path of its binary');
});

/** Directories the bundle extraction made under the job's temp directory. */
const bundleDirs = (job) => fs.readdirSync(job.tempDirectory).filter((n) => n.startsWith('mke-bundle-'));

for (const upgradeCode of [0, 1]) {
  test(`with a bundle (upgrade exit ${upgradeCode}): helm sees its kube.yml, which is gone after the step`, async (t) => {
    if (!requireTool(t, 'openssl')) return;
    const { job, helm, env } = setUp(t, 3, { upgradeCode });
    const bundle = await makeBundle(path.join(job.root, 'bundle-src'));
    const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, bundle: bundle.zip } });
    assert.equal(report.result, upgradeCode === 0 ? 'Succeeded' : 'Failed', report.message);
    const [seen] = helm.kubeconfigsSeen();
    assert.ok(seen.exists, 'the kubeconfig exists while helm runs');
    assert.equal(path.basename(seen.file), 'kube.yml');
    assert.ok(seen.file.startsWith(job.tempDirectory + path.sep));
    assert.ok(seen.text.includes(`server: ${bundle.kubernetesServer}`));
    assert.ok(!fs.existsSync(seen.file) && !fs.existsSync(path.dirname(seen.file)), 'removed after the step');
    assert.deepEqual(bundleDirs(job), []);
    // The post-job step knows where it was, finds nothing left, and does not complain.
    const recorded = report.taskVariables['MkeHelmDeploy.bundleDirectory'].value;
    assert.equal(recorded, path.dirname(seen.file));
    const [post] = await job.finish();
    assert.equal(post.result, 'Succeeded');
    assert.deepEqual(post.warnings, []);
    // No private key material reached the log (the agent consumes its setsecret commands).
    const printed = [report.stdout, report.stderr, post.stdout, post.stderr].join('\n').split('\n')
      .filter((l) => !l.startsWith('##vso[task.setsecret]')).join('\n');
    const embeddedKey = seen.text.match(/client-key-data: *(\S+)/)?.[1];
    for (const secret of [...bundle.keyBase64Lines, embeddedKey].filter(Boolean)) {
      assert.ok(!printed.includes(secret), 'key material in the log');
    }
    for (const line of bundle.keyBase64Lines) assert.ok(report.secrets.includes(line), 'key lines are registered');
  });
}

test('a hostile bundle fails the step before helm deploys anything, leaving nothing behind', async (t) => {
  if (!requireTool(t, 'openssl')) return;
  const { job, helm, env } = setUp(t, 3);
  const bundle = await makeBundle(path.join(job.root, 'bundle-src'), { hostile: 'zipSlip' });
  const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, bundle: bundle.zip } });
  assert.equal(report.result, 'Failed');
  assert.match(report.message, /^Input 'bundle': /);
  // Only the version probe, which reads no credentials, may have run.
  assert.deepEqual(helm.argvs().filter((argv) => argv[0] !== 'version'), []);
  assert.deepEqual(job.leftInTemp(), ['kubeconfig-secure-file']);
});

test('a bundle whose kube.yml runs a command (exec credential plugin) fails before helm is given it', async (t) => {
  if (!requireTool(t, 'openssl')) return;
  const { job, helm, env } = setUp(t, 3);
  const marker = path.join(job.root, 'exec-ran');
  const bundle = await makeBundle(path.join(job.root, 'bundle-src'), { hostile: 'kubeconfigExec', marker });
  const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, bundle: bundle.zip } });
  assert.equal(report.result, 'Failed');
  assert.equal(report.message, "Input 'bundle': refused the client bundle: kube.yml asks kubectl to run a command "
    + '(users[].user.exec), which a client bundle never does.');
  assert.deepEqual(helm.argvs().filter((argv) => argv[0] !== 'version'), []);
  assert.ok(!fs.existsSync(marker), 'the exec command never ran');
  assert.deepEqual(job.leftInTemp(), ['kubeconfig-secure-file']);
});

test('a bundle without kube.yml (UCP 2.x) fails naming the input, and its files are removed', async (t) => {
  if (!requireTool(t, 'openssl')) return;
  const { job, helm, env } = setUp(t, 3);
  const bundle = await makeBundle(path.join(job.root, 'bundle-src'), { generation: '2.x' });
  const report = await job.step('MkeHelmDeploy', { env, inputs: { ...BASE_INPUTS, bundle: bundle.zip } });
  assert.equal(report.result, 'Failed');
  assert.match(report.message, /^Input 'bundle': the client bundle has no kube\.yml/);
  assert.ok(!helm.argvs().some((a) => a[0] === 'upgrade'));
  assert.deepEqual(job.leftInTemp(), ['kubeconfig-secure-file']);
});

/** Runs only the post-job step with the task variable a cancelled step left behind. */
function postJobWith(job, recorded) {
  return job.execute('MkeHelmDeploy', 'postjobexecution',
    { taskVariables: { 'MkeHelmDeploy.bundleDirectory': { value: recorded } } });
}

test('after a cancelled job the post-job step removes the leftover bundle directory', async (t) => {
  const { job } = setUp(t, 3);
  const leftover = path.join(job.tempDirectory, 'mke-bundle-Xy12ab');
  fs.mkdirSync(path.join(leftover, 'tls', 'kubernetes'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(leftover, 'kube.yml'), 'client-key-data: c2VjcmV0\n', { mode: 0o600 });
  fs.writeFileSync(path.join(leftover, 'tls', 'kubernetes', 'key.pem'), 'secret', { mode: 0o600 });
  const report = await postJobWith(job, leftover);
  assert.equal(report.result, 'Succeeded');
  assert.ok(!fs.existsSync(leftover));
  assert.ok(fs.existsSync(job.tempDirectory), 'the temp directory itself stays');
});

test('the post-job step never removes anything outside Agent.TempDirectory, nor fails the job', async (t) => {
  const { job } = setUp(t, 3);
  const outside = path.join(job.sourcesDirectory, 'precious');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'file'), 'keep me');
  // A link inside the temp directory that leads outside it is outside too.
  const link = path.join(job.tempDirectory, 'mke-bundle-link');
  fs.symlinkSync(outside, link);
  for (const recorded of [outside, link, job.tempDirectory, `${job.tempDirectory}/../s/precious`]) {
    const report = await postJobWith(job, recorded);
    assert.equal(report.result, 'Succeeded', recorded);
    assert.equal(report.warnings.length, 1, recorded);
    assert.match(report.warnings[0], /is not inside Agent\.TempDirectory; it is left alone/);
  }
  assert.equal(fs.readFileSync(path.join(outside, 'file'), 'utf8'), 'keep me');
  assert.ok(fs.existsSync(job.tempDirectory));
});
