// MkeClientBundle@1 run as the agent runs it, with realistic bundles of every
// generation, a real kubectl against an HTTPS endpoint that requires the
// bundle's client certificate, and the hostile archives it must refuse.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import test, { after, before } from 'node:test';
import { Job } from './rig/agent.mjs';
import { HOSTILE, makeBundle, makeCa, makeServerCertificate } from './rig/bundles.mjs';
import { requireTool } from './rig/tools.mjs';

let fixtures;
let ca;
let server;
let serverUrl;

before(async () => {
  fixtures = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-fixtures-'));
  ca = makeCa(path.join(fixtures, 'ca'));
  const tls = makeServerCertificate(ca, path.join(fixtures, 'server'));
  // An API server in miniature: only a client certificate from the bundle's CA gets in.
  server = https.createServer({
    key: fs.readFileSync(tls.key), cert: fs.readFileSync(tls.cert), ca: ca.certPem,
    requestCert: true, rejectUnauthorized: true,
  }, (request, response) => {
    const user = request.socket.getPeerCertificate().subject?.CN;
    response.setHeader('content-type', 'application/json');
    if (new URL(request.url, 'https://x').pathname === '/version') {
      response.end(JSON.stringify({ major: '1', minor: '31', gitVersion: 'v1.31.5-mirantis', platform: `user=${user}` }));
    } else {
      response.statusCode = 404;
      response.end('{}');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `https://127.0.0.1:${server.address().port}`;
});

after(() => {
  server?.close();
  if (fixtures) fs.rmSync(fixtures, { recursive: true, force: true });
});

let counter = 0;
function bundle(options = {}) {
  return makeBundle(path.join(fixtures, `b${counter++}`), { ca, kubernetesServer: serverUrl, ...options });
}

/** Runs the step in a fresh job; the job is handed to `check` and disposed afterwards. */
async function withStep(zip, inputs, check) {
  const job = new Job();
  try {
    const report = await job.step('MkeClientBundle', { name: 'bundle', inputs: { bundle: zip, ...inputs } });
    await check(report, job);
  } finally {
    job.dispose();
  }
}

function variable(report, name) {
  return report.variables[name]?.value;
}

function assertNoKeyMaterial(report, made) {
  // The registration commands themselves are how the agent learns what to mask.
  const log = `${report.stdout}\n${report.stderr}`.split('\n').filter((l) => !l.startsWith('##vso[task.setsecret]')).join('\n');
  for (const line of made.keyBase64Lines) assert.ok(!log.includes(line), 'a private key line reached the log');
  assert.ok(!log.includes(Buffer.from(made.key).toString('base64').slice(0, 40)), 'client-key-data reached the log');
}

function kubectl(args, env) {
  return new Promise((resolve) => {
    execFile('kubectl', args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const GENERATIONS = [
  { label: 'UCP 1.x', options: { generation: '1.x' }, generation: 'UCP 1.x' },
  { label: 'UCP 2.x', options: { generation: '2.x' }, generation: 'UCP 2.x' },
  { label: 'UCP 3.x admin', options: { generation: '3.x', admin: true }, generation: 'UCP 3.0–3.1' },
  { label: 'UCP 3.2+', options: { generation: '3.2' }, generation: 'UCP 3.2+ / MKE' },
  { label: 'UCP 3.2+ made on Windows (CRLF)', options: { generation: '3.2', crlf: true }, generation: 'UCP 3.2+ / MKE' },
];

for (const { label, options, generation } of GENERATIONS) {
  test(`${label}: extracts privately and exports the bundle's variables`, async () => {
    const made = await bundle(options);
    await withStep(made.zip, {}, async (report, job) => {
      assert.equal(report.result, 'Succeeded', report.message ?? report.stderr);
      const directory = report.outputs.bundleDirectory;
      assert.equal(path.dirname(directory), job.tempDirectory);
      assert.equal(fs.statSync(directory).mode & 0o777, 0o700);
      assert.equal(fs.statSync(path.join(directory, 'key.pem')).mode & 0o777, 0o600);
      assert.equal(fs.readFileSync(path.join(directory, 'cert.pem'), 'utf8'), made.files['cert.pem']);

      const hasKube = made.files['kube.yml'] !== undefined;
      const expected = {
        DOCKER_HOST: made.dockerHost,
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: directory,
        COMPOSE_TLS_VERSION: made.generation === '1.x' ? undefined : 'TLSv1_2',
        KUBECONFIG: hasKube ? path.join(directory, 'kube.yml') : undefined,
      };
      for (const [name, value] of Object.entries(expected)) assert.equal(variable(report, name), value, name);
      assert.equal(job.variables.DOCKER_HOST, made.dockerHost, 'later steps see DOCKER_HOST');

      assert.equal(report.outputs.dockerHost, made.dockerHost);
      assert.equal(report.outputs.kubernetesServer, hasKube ? serverUrl : undefined);
      assert.equal(report.outputs.kubeconfig, hasKube ? path.join(directory, 'kube.yml') : undefined);
      assert.equal(report.outputs.certificateNotAfter, made.notAfter.toISOString().replace(/\.\d+Z$/, 'Z'));
      assert.equal(job.variables['bundle.bundleDirectory'], directory);
      if (made.generation === '3.2') {
        for (const endpoint of ['docker', 'kubernetes']) {
          assert.equal(fs.statSync(path.join(directory, 'tls', endpoint, 'key.pem')).mode & 0o777, 0o600);
        }
      }
      assert.equal(report.summaries.length, 1);
      assert.match(fs.readFileSync(report.summaries[0], 'utf8'), new RegExp(generation.replace('+', '\\+')));
      assert.deepEqual(report.warnings, []);
      for (const line of made.keyBase64Lines) assert.ok(report.secrets.includes(line), 'key lines are registered');
      assertNoKeyMaterial(report, made);

      const [post] = await job.finish();
      assert.equal(post.result, 'Succeeded');
      assert.ok(!fs.existsSync(directory), 'the post-job step removes the bundle');
    });
  });
}

test('without env.sh the variables come from env.ps1, and without both from env.cmd', async () => {
  for (const omit of [['env.sh'], ['env.sh', 'env.ps1']]) {
    for (const generation of ['1.x', '3.2']) {
      const made = await bundle({ generation, omit });
      await withStep(made.zip, {}, async (report) => {
        assert.equal(report.result, 'Succeeded', report.message);
        const directory = report.outputs.bundleDirectory;
        assert.equal(variable(report, 'DOCKER_HOST'), made.dockerHost);
        assert.equal(variable(report, 'DOCKER_TLS_VERIFY'), '1');
        assert.equal(variable(report, 'DOCKER_CERT_PATH'), directory);
        assert.equal(variable(report, 'COMPOSE_TLS_VERSION'), generation === '1.x' ? undefined : 'TLSv1_2');
      });
    }
  }
});

test('the real kubectl reaches the cluster with the exported KUBECONFIG and ~/.kube/config stays untouched', async (t) => {
  if (!requireTool(t, 'kubectl')) return;
  const agentOwn = 'apiVersion: v1\nkind: Config\ncurrent-context: agent-own\n';
  for (const options of [{}, { kubeconfigReferencesFiles: true }, { crlf: true }, { kubeconfigJson: true },
    { kubeconfigJson: true, kubeconfigReferencesFiles: true }]) {
    const made = await bundle(options);
    const job = new Job();
    try {
      // The agent's own kubeconfig, which sourcing env.sh's kubectl block would rewrite.
      const agentConfig = path.join(job.home, '.kube', 'config');
      fs.mkdirSync(path.dirname(agentConfig), { recursive: true });
      fs.writeFileSync(agentConfig, agentOwn);
      const report = await job.step('MkeClientBundle', { inputs: { bundle: made.zip } });
      assert.equal(report.result, 'Succeeded', report.message);
      const env = { PATH: process.env.PATH, HOME: job.home, KUBECONFIG: job.variables.KUBECONFIG };
      const answer = await kubectl(['get', '--raw', '/version'], env);
      assert.equal(answer.code, 0, `${JSON.stringify(options)}: ${answer.stderr}`);
      assert.equal(JSON.parse(answer.stdout).platform, `user=${made.user}`);
      const version = await kubectl(['version', '-o', 'json'], env);
      assert.equal(JSON.parse(version.stdout).serverVersion.gitVersion, 'v1.31.5-mirantis');
      assert.equal(fs.readFileSync(agentConfig, 'utf8'), agentOwn);
      assertNoKeyMaterial(report, made);
    } finally {
      job.dispose();
    }
  }
});

test('a certificate that expires soon gives a warning; expiryWarningDays moves the threshold', async () => {
  const made = await bundle({ validityDays: 3 });
  await withStep(made.zip, {}, async (report) => {
    assert.equal(report.result, 'Succeeded');
    assert.equal(report.warnings.length, 1);
    assert.match(report.warnings[0], /client certificate of the MKE bundle expires on \d{4}-\d\d-\d\dT[\d:]+Z \(in 3 days\)/);
  });
  await withStep(made.zip, { expiryWarningDays: '1' }, async (report) => {
    assert.equal(report.result, 'Succeeded');
    assert.deepEqual(report.warnings, []);
  });
});

test('exportVariables false sets no job variables but still gives the outputs', async () => {
  const made = await bundle();
  await withStep(made.zip, { exportVariables: 'false' }, async (report) => {
    assert.equal(report.result, 'Succeeded');
    for (const name of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'COMPOSE_TLS_VERSION', 'KUBECONFIG']) {
      assert.equal(report.variables[name], undefined, name);
    }
    assert.ok(fs.existsSync(report.outputs.kubeconfig));
  });
});

const REFUSED = {
  notAZip: /not a zip file or it is corrupt/,
  corrupt: /not a zip file or it is corrupt|cannot be inflated/,
  zipSlip: /the entry '\.\.\/escaped\.txt' points outside the bundle \(zip slip\)/,
  absolutePath: /the entry '\/tmp\/absolute\.txt' is an absolute path/,
  driveLetter: /starts with a drive letter/,
  symlink: /the entry 'ca-link\.pem' is a symbolic link/,
  zipBomb: /the entry 'padding\.bin' inflates more than 200 times its compressed size/,
  lyingZipBomb: /'padding\.bin' (inflates more than 200 times|cannot be inflated)/,
  tooLarge: /inflates to more than 32 MiB/,
  tooManyEntries: /more than the 256 a client bundle can have/,
  commandSubstitution: /env\.sh line 4 needs a shell to evaluate \(`export DOCKER_HOST=\$\(touch /,
  loggingCommand: /its DOCKER_HOST "#\u200b#vso\[task\.prependpath\]\/tmp\/evil" is not a tcp:\/\/, unix:\/\/, ssh:\/\/ or npipe:\/\/ address/,
  noEnvNoKubeconfig: /neither an env file \(env\.sh, env\.ps1, env\.cmd\) nor kube\.yml/,
  kubeconfigExec: /: kube\.yml asks kubectl to run a command \(users\[\]\.user\.exec\), which a client bundle never does\.$/,
  kubeconfigAuthProvider: /kube\.yml asks kubectl to use an authentication plugin, which can run a command \(users\[\]\.user\.auth-provider\)/,
  kubeconfigTokenFile: /kube\.yml asks kubectl to send a file of this agent as its token \(users\[\]\.user\.tokenFile\)/,
  kubeconfigJsonFileOutside: /kube\.yml refers to '\/etc\/ssl\/private\/agent-key\.pem', which is not in the bundle/,
  substitutionAfterOneLineIf: /env\.sh line 13 needs a shell to evaluate \(`export KUBECONFIG=\$\(touch /,
  readonlySubstitution: /env\.sh line 4 needs a shell to evaluate \(`readonly DOCKER_HOST=\$\(touch /,
};

test('every hostile variant has an expectation', () => {
  assert.deepEqual(Object.keys(REFUSED).sort(), [...HOSTILE].sort());
});

for (const [hostile, message] of Object.entries(REFUSED)) {
  test(`refuses a bundle (${hostile}) with one sentence and leaves nothing behind`, async () => {
    const marker = path.join(fixtures, `marker-${hostile}`);
    const made = await bundle({ hostile, marker });
    await withStep(made.zip, {}, async (report, job) => {
      assert.equal(report.result, 'Failed');
      assert.match(report.message, /^Input 'bundle': refused the client bundle: /);
      assert.match(report.message, message);
      assert.deepEqual(report.errors, [report.message]);
      assert.deepEqual(job.leftInTemp(), []);
      assert.deepEqual(fs.readdirSync(job.root).sort(), ['_temp', 'home', 's']);
      assert.ok(!fs.existsSync('/tmp/absolute.txt'));
      assert.ok(!fs.existsSync(marker), 'env.sh must never run');
      assert.deepEqual(Object.keys(report.variables), []);
      assert.deepEqual(report.prependPath, []);
      assertNoKeyMaterial(report, made);
    });
  });
}

test('a JSON kube.yml is read like a YAML one, written 0600, and its key registered as a secret', async () => {
  const made = await bundle({ kubeconfigJson: true });
  await withStep(made.zip, {}, async (report) => {
    assert.equal(report.result, 'Succeeded', report.message);
    const kubeconfig = path.join(report.outputs.bundleDirectory, 'kube.yml');
    assert.equal(report.outputs.kubernetesServer, serverUrl);
    assert.equal(variable(report, 'KUBECONFIG'), kubeconfig);
    assert.equal(fs.statSync(kubeconfig).mode & 0o777, 0o600);
    assert.ok(report.secrets.includes(Buffer.from(made.key).toString('base64')), 'client-key-data is registered');
    assertNoKeyMaterial(report, made);
  });
});

test('a folder, a device or a huge file as the bundle is refused from its stat, before it is read', async () => {
  const huge = path.join(fixtures, 'huge.zip');
  // Sparse: 100 MiB that take no space; reading it would still take 100 MiB of memory.
  fs.closeSync(fs.openSync(huge, 'w'));
  fs.truncateSync(huge, 100 * 1024 * 1024);
  for (const [zip, message] of [
    [fixtures, "Input 'bundle': refused the client bundle: it is a folder, a device or a pipe, not a zip file."],
    ['/dev/null', "Input 'bundle': refused the client bundle: it is a folder, a device or a pipe, not a zip file."],
    [huge, "Input 'bundle': refused the client bundle: the file has 104857600 bytes, more than the 64 MiB a client bundle zip can have."],
  ]) {
    await withStep(zip, {}, async (report, job) => {
      assert.equal(report.result, 'Failed');
      assert.equal(report.message, message);
      assert.deepEqual(job.leftInTemp(), []);
    });
  }
});

test('an expired certificate fails naming the date', async () => {
  const made = await bundle({ validityDays: -2 });
  await withStep(made.zip, {}, async (report, job) => {
    assert.equal(report.result, 'Failed');
    const date = made.notAfter.toISOString().replace(/\.\d+Z$/, 'Z');
    assert.equal(report.message,
      `Input 'bundle': the client certificate of the bundle expired on ${date}; download a new client bundle from MKE.`);
    assert.deepEqual(job.leftInTemp(), []);
  });
});

test('a bundle path that does not exist fails naming the input', async () => {
  await withStep(path.join(fixtures, 'missing.zip'), {}, async (report, job) => {
    assert.equal(report.result, 'Failed');
    assert.match(report.message, /^Input 'bundle': cannot read .*missing\.zip \(ENOENT\)\.$/);
    assert.deepEqual(job.leftInTemp(), []);
  });
});

test('the post-job step leaves a directory outside Agent.TempDirectory alone and does not fail', async () => {
  const made = await bundle();
  const job = new Job();
  try {
    const report = await job.step('MkeClientBundle', { inputs: { bundle: made.zip } });
    assert.equal(report.result, 'Succeeded');
    const outside = fs.mkdtempSync(path.join(fixtures, 'outside-'));
    job.postJobSteps[0].taskVariables['MkeClientBundle.bundleDirectory'] = { value: outside };
    const [post] = await job.finish();
    assert.equal(post.result, 'Succeeded');
    assert.ok(fs.existsSync(outside));
    assert.match(post.warnings.join('\n'), /is not inside Agent\.TempDirectory/);
  } finally {
    job.dispose();
  }
});
