// MsrBuildPush@1 run as the agent runs it: the exact docker and podman command
// lines (recording stubs), bad input, and a real buildah build pushed to a real
// registry after a real MsrLogin, checked with skopeo.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { Job } from './rig/agent.mjs';
import { startRegistry } from './rig/registry.mjs';
import { pathWith, recordingStub, requireTool } from './rig/tools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = process.env.MKE_BUILD_DIR ? path.resolve(process.env.MKE_BUILD_DIR) : path.join(root, 'build');
const corpus = (name) => fs.readFileSync(new URL(`./data/dockerfiles/${name}`, import.meta.url), 'utf8');
const SHA = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b';
const REPOSITORY = 'msr.example.com/web/techorama';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const FILE_DIGEST = `sha256:${'cd'.repeat(32)}`;

// The stub engines: a build that tries to set a variable through its output
// (and fails when STUB_BUILD_EXIT says so); a push that reports a digest the
// way docker does, or writes --digestfile the way podman does (or is denied
// when STUB_PUSH_EXIT says so).
const engineBehaviour = `(argv, stdin, env) => {
  if (argv[0] === 'build') {
    return {
      // 'Größe' reaches the task split inside its 'ö'.
      stdout: 'STEP 1/2: FROM base Größe\\n##vso[task.setvariable variable=hijacked]yes\\n  ##vso[task.complete result=Succeeded]\\n',
      splitAtByte: 'STEP 1/2: FROM base Gr'.length + 1,
      code: Number(env.STUB_BUILD_EXIT || 0),
    };
  }
  if (argv[0] === 'push') {
    if (env.STUB_PUSH_EXIT) {
      return { code: Number(env.STUB_PUSH_EXIT), stderr: 'denied: requested access to the resource is denied\\n' };
    }
    const reference = argv[argv.length - 1];
    const at = argv.indexOf('--digestfile');
    if (at >= 0) {
      fs.writeFileSync(argv[at + 1], '${FILE_DIGEST}\\n');
      return { stdout: 'Writing manifest to image destination\\n' };
    }
    return { stdout: 'The push refers to repository [x]\\n' + reference.split(':').pop() + ': digest: ${DIGEST} size: 528\\n' };
  }
  return { code: 64, stderr: 'unexpected call' };
}`;

/** A job with the .NET sample in src/web and `docker` and `podman` stubs on PATH. */
function stubJob({ variables = {}, secrets = {}, behaviour = engineBehaviour } = {}) {
  const job = new Job({
    secrets,
    variables: {
      'Build.Repository.Uri': 'https://build:hunter2@dev.azure.com/contoso/web/_git/techorama',
      SOURCE_DATE_EPOCH: '1700000000',
      ...variables,
    },
    sourceFiles: { 'src/web/Dockerfile': corpus('dotnet-multistage.Dockerfile') },
  });
  const bin = path.join(job.root, 'bin');
  const record = { recordEnv: ['BUILD_CONFIGURATION'] };
  const docker = recordingStub(bin, 'docker', behaviour, record);
  const podman = recordingStub(bin, 'podman', behaviour, record);
  return { job, docker, podman, env: { PATH: pathWith(bin), BUILD_CONFIGURATION: 'Debug' } };
}

const fullInputs = {
  repository: REPOSITORY,
  dockerfile: 'src/web/Dockerfile',
  tags: '{{sha}}\n{{branch}}, latest',
  buildArgs: 'DOTNET_VERSION=8.0\nBUILD_CONFIGURATION',
  labels: 'com.example.team=web\ncom.example.build={{build_number}}',
  target: 'runtime',
  platform: 'linux/amd64',
  cacheFrom: `${REPOSITORY}:main`,
  secrets: 'nuget=NUGET_TOKEN',
  arguments: '--pull --progress=plain',
};

/** The step's own files are gone; the agent's summaries folder stays for upload. */
function leftByStep(job) {
  return job.leftInTemp().filter((f) => !f.startsWith('mke-msr-summaries'));
}

test('docker: the exact build and push commands, outputs and summary', async () => {
  const { job, docker, env } = stubJob();
  try {
    const report = await job.step('MsrBuildPush', { name: 'image', inputs: fullInputs, env });
    assert.equal(report.result, 'Succeeded', report.message ?? report.stderr);
    const web = path.join(job.sourcesDirectory, 'src', 'web');
    const calls = docker.calls();
    assert.deepEqual(calls[0].argv, [
      'build', '-f', path.join(web, 'Dockerfile'), '--target', 'runtime', '--platform', 'linux/amd64',
      '--build-arg', 'DOTNET_VERSION=8.0', '--build-arg', 'BUILD_CONFIGURATION',
      '--build-arg', 'COMMIT_ID=9f86d08', '--build-arg', 'SOURCE_DATE_EPOCH=1700000000',
      '--label', `org.opencontainers.image.revision=${SHA}`,
      '--label', 'org.opencontainers.image.source=https://dev.azure.com/contoso/web/_git/techorama',
      '--label', 'org.opencontainers.image.created=2023-11-14T22:13:20Z',
      '--label', 'org.opencontainers.image.version=9f86d08',
      '--label', 'org.opencontainers.image.title=techorama',
      '--label', 'com.example.team=web', '--label', 'com.example.build=20261203.1',
      '-t', `${REPOSITORY}:9f86d08`, '-t', `${REPOSITORY}:main`, '-t', `${REPOSITORY}:latest`,
      '--cache-from', `${REPOSITORY}:main`, '--secret', 'id=nuget,env=NUGET_TOKEN',
      '--pull', '--progress=plain', web,
    ]);
    // `--build-arg KEY` alone: docker reads the value from its environment.
    assert.equal(calls[0].env.BUILD_CONFIGURATION, 'Debug');
    assert.deepEqual(calls.slice(1).map((c) => c.argv), ['9f86d08', 'main', 'latest'].map((t) => ['push', `${REPOSITORY}:${t}`]));
    assert.deepEqual(report.outputs, {
      imageName: REPOSITORY,
      tags: '9f86d08,main,latest',
      imageRef: `${REPOSITORY}:9f86d08`,
      digest: DIGEST,
      imageRefDigest: `${REPOSITORY}@${DIGEST}`,
    });
    assert.equal(job.variables['image.imageRefDigest'], `${REPOSITORY}@${DIGEST}`);
    // The build printed logging commands; they reached the log neutralised.
    assert.equal(report.variables.hijacked, undefined);
    assert.equal(report.commands.filter((c) => c.name === 'task.complete').length, 1);
    assert.ok(report.stdout.includes('STEP 1/2: FROM base Größe\n'), 'a character split between two reads stays whole');
    assert.deepEqual(report.warnings, []);
    assert.equal(report.summaries.length, 1);
    const summary = fs.readFileSync(report.summaries[0], 'utf8');
    assert.match(summary, /MSR build and push/);
    assert.ok(summary.includes(DIGEST) && summary.includes('9f86d08, main, latest'));
    assert.deepEqual(leftByStep(job), []);
  } finally {
    job.dispose();
  }
});

test('podman: --authfile from DOCKER_CONFIG, the digest from --digestfile', async () => {
  const { job, podman, docker, env } = stubJob();
  try {
    const dockerConfig = path.join(job.tempDirectory, 'docker-config-test');
    fs.mkdirSync(dockerConfig);
    fs.writeFileSync(path.join(dockerConfig, 'config.json'), '{"auths":{}}');
    job.variables.DOCKER_CONFIG = dockerConfig;
    const authFile = path.join(dockerConfig, 'config.json');
    const report = await job.step('MsrBuildPush', {
      inputs: { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile', engine: 'podman', tags: 'v1,v2', ociLabels: 'false' },
      env,
    });
    assert.equal(report.result, 'Succeeded', report.message ?? report.stderr);
    assert.deepEqual(docker.calls(), []);
    const [build, ...pushes] = podman.calls();
    const web = path.join(job.sourcesDirectory, 'src', 'web');
    assert.deepEqual(build.argv, [
      'build', '-f', path.join(web, 'Dockerfile'), '--authfile', authFile,
      '--build-arg', 'COMMIT_ID=9f86d08', '-t', `${REPOSITORY}:v1`, '-t', `${REPOSITORY}:v2`, web,
    ]);
    assert.equal(pushes.length, 2);
    pushes.forEach((push, i) => {
      const [command, flag, digestFile, ...rest] = push.argv;
      assert.deepEqual([command, flag], ['push', '--digestfile']);
      assert.ok(digestFile.startsWith(job.tempDirectory + path.sep), digestFile);
      assert.deepEqual(rest, ['--authfile', authFile, `${REPOSITORY}:v${i + 1}`]);
    });
    assert.equal(report.outputs.digest, FILE_DIGEST);
    assert.equal(report.outputs.imageRefDigest, `${REPOSITORY}@${FILE_DIGEST}`);
    // The digest files went with the step's directory; the login's config stays.
    assert.deepEqual(leftByStep(job), ['docker-config-test', path.join('docker-config-test', 'config.json')]);
  } finally {
    job.dispose();
  }
});

test('logging commands a build prints on standard error are neutralised too', async () => {
  // BuildKit's progress output goes to standard error, and a RUN step's output with it.
  const behaviour = `() => ({
    stderr: '#5 [build 2/4] RUN echo\\n##vso[task.setvariable variable=fromStderr]yes\\n#5 0.21 ##VSO[task.complete result=Failed]by the build\\n##[error]an error the task did not report\\n',
  })`;
  const { job, docker, env } = stubJob({ behaviour });
  try {
    const report = await job.step('MsrBuildPush', {
      inputs: { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile', push: 'false' }, env,
    });
    assert.equal(report.result, 'Succeeded', report.message ?? report.stderr);
    assert.equal(docker.calls().length, 1);
    assert.equal(report.variables.fromStderr, undefined);
    assert.equal(report.commands.filter((c) => c.name === 'task.complete').length, 1);
    // The lines still reach the log, each broken after its first '#'.
    assert.ok(report.stderr.includes('#\u200b#vso[task.setvariable variable=fromStderr]yes\n'), report.stderr);
    assert.ok(report.stderr.includes('#5 0.21 #\u200b#VSO[task.complete result=Failed]by the build\n'), report.stderr);
    assert.ok(report.stderr.includes('#\u200b#[error]an error the task did not report\n'), report.stderr);
    assert.ok(!/##(vso)?\[/i.test(report.stderr), report.stderr);
  } finally {
    job.dispose();
  }
});

test('pipeline text in a label reaches the build intact but cannot issue logging commands', async () => {
  const message = 'fix login ##vso[task.setvariable variable=pwned]yes';
  const { job, docker, env } = stubJob({ variables: { 'Build.SourceVersionMessage': message } });
  try {
    const report = await job.step('MsrBuildPush', {
      inputs: { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile', labels: 'com.example.message=$(Build.SourceVersionMessage)' },
      env,
    });
    assert.equal(report.result, 'Succeeded', report.message ?? report.stderr);
    assert.ok(docker.calls()[0].argv.includes(`com.example.message=${message}`));
    assert.equal(report.variables.pwned, undefined);
    assert.equal(job.variables.pwned, undefined);
  } finally {
    job.dispose();
  }
});

test('pipelineLabels: the Docker task\'s labels, prefixed with the collection host reversed', async () => {
  const { job, docker, env } = stubJob({ variables: { 'System.TeamFoundationCollectionUri': 'https://contoso.visualstudio.com/' } });
  try {
    const inputs = { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile', push: 'false', ociLabels: 'false', pipelineLabels: 'true' };
    const report = await job.step('MsrBuildPush', { inputs, env });
    assert.equal(report.result, 'Succeeded', report.message ?? report.stderr);
    const argv = docker.calls()[0].argv;
    const labels = argv.filter((_, i) => argv[i - 1] === '--label');
    const prefix = 'com.visualstudio.contoso.image';
    assert.deepEqual(labels, [
      `${prefix}.system.teamfoundationcollectionuri=https://contoso.visualstudio.com/`,
      `${prefix}.system.teamproject=web`,
      `${prefix}.build.repository.name=techorama`,
      `${prefix}.build.sourceversion=${SHA}`,
      // Credentials in the repository URI never go into an image.
      `${prefix}.build.repository.uri=https://dev.azure.com/contoso/web/_git/techorama`,
      `${prefix}.build.sourcebranchname=main`,
      `${prefix}.build.definitionname=web-ci`,
      `${prefix}.build.buildnumber=20261203.1`,
    ]);
    delete job.variables['System.TeamFoundationCollectionUri'];
    const without = await job.step('MsrBuildPush', { inputs, env });
    assert.equal(without.result, 'Succeeded', without.message ?? without.stderr);
    assert.ok(!docker.calls()[1].argv.includes('--label'), 'no collection URI, no pipeline labels');
  } finally {
    job.dispose();
  }
});

test('push false builds only; an undeclared build-arg is a warning', async () => {
  const { job, docker, env } = stubJob();
  try {
    const report = await job.step('MsrBuildPush', {
      inputs: { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile', push: 'false', buildArgs: 'NUGET_FEED=https://feed' },
      env,
    });
    assert.equal(report.result, 'Succeeded', report.message ?? report.stderr);
    assert.deepEqual(report.warnings, [
      'The build-arg NUGET_FEED is not declared by any ARG in the Dockerfile, so the build ignores it.',
    ]);
    assert.deepEqual(docker.calls().map((c) => c.argv[0]), ['build']);
    assert.deepEqual(Object.keys(report.outputs).sort(), ['imageName', 'imageRef', 'tags']);
  } finally {
    job.dispose();
  }
});

test('buildContext: the Dockerfile\'s directory by default, the repository root for .', async () => {
  const { job, docker, env } = stubJob();
  try {
    for (const [buildContext, expected] of [[undefined, path.join(job.sourcesDirectory, 'src', 'web')],
      ['.', job.sourcesDirectory], ['src', path.join(job.sourcesDirectory, 'src')]]) {
      const inputs = { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile', push: 'false', buildContext };
      if (buildContext === undefined) delete inputs.buildContext;
      const report = await job.step('MsrBuildPush', { inputs, env });
      assert.equal(report.result, 'Succeeded', report.message ?? report.stderr);
      assert.equal(docker.calls().at(-1).argv.at(-1), expected, `buildContext ${buildContext}`);
    }
  } finally {
    job.dispose();
  }
});

test('a KEY-alone build-arg missing from the environment is a warning; env: maps a secret', async () => {
  const secret = 'npm-secret-4711';
  const { job, docker, env } = stubJob({ secrets: { NPM_TOKEN: secret } });
  try {
    const inputs = { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile', push: 'false', buildArgs: 'BUILD_CONFIGURATION\nNPM_TOKEN' };
    const unmapped = await job.step('MsrBuildPush', { inputs, env });
    assert.equal(unmapped.result, 'Succeeded', unmapped.message ?? unmapped.stderr);
    assert.deepEqual(unmapped.warnings, [
      "Input 'buildArgs': NPM_TOKEN is not set in the agent's environment (map a secret variable with env:)",
    ]);
    const strict = await job.step('MsrBuildPush', { inputs: { ...inputs, strictBuildArgs: 'true' }, env });
    assert.equal(strict.result, 'Failed');
    assert.match(strict.message, /^Input 'strictBuildArgs': .*NPM_TOKEN is not set in the agent's environment/);
    const mapped = await job.step('MsrBuildPush', { inputs, env: { ...env, NPM_TOKEN: secret } });
    assert.equal(mapped.result, 'Succeeded', mapped.message ?? mapped.stderr);
    // Now it reaches the build, which has no ARG for it.
    assert.deepEqual(mapped.warnings, [
      'The build-arg NPM_TOKEN is not declared by any ARG in the Dockerfile, so the build ignores it.',
    ]);
    assert.deepEqual(docker.calls().map((c) => c.argv.filter((_, i) => c.argv[i - 1] === '--build-arg')), [
      ['BUILD_CONFIGURATION', 'NPM_TOKEN', 'COMMIT_ID=9f86d08', 'SOURCE_DATE_EPOCH=1700000000'],
      ['BUILD_CONFIGURATION', 'NPM_TOKEN', 'COMMIT_ID=9f86d08', 'SOURCE_DATE_EPOCH=1700000000'],
    ]);
    for (const report of [unmapped, strict, mapped]) {
      assert.ok(!report.stdout.includes(secret) && !report.stderr.includes(secret), 'the value never reaches the log');
    }
  } finally {
    job.dispose();
  }
});

const badInputs = [
  ['an invalid image name', { repository: 'msr.example.com/Web/Techorama' },
    /^Input 'repository': "msr\.example\.com\/Web\/Techorama" is not a valid image name: repository names must be lower case/],
  ['a tag with a path in it', { tags: '{{sha}}\nfeature/login' }, /^Input 'tags': "feature\/login" is not a valid tag/],
  ['a missing Dockerfile', { dockerfile: 'src/api/Dockerfile' },
    /^Input 'dockerfile': there is no Dockerfile at .*src\/api\/Dockerfile$/],
  ['a directory for the Dockerfile', { dockerfile: 'src/web' },
    /^Input 'dockerfile': .*src\/web is a directory; name the Dockerfile itself, as in .*src\/web\/Dockerfile$/],
  ['a target that is not a stage', { target: 'tests' },
    /^Input 'target': the Dockerfile has no stage named "tests"; its stages are base, build, publish, runtime$/],
  ['strictBuildArgs with an undeclared build-arg', { strictBuildArgs: 'true', buildArgs: 'NUGET_FEED=x' },
    /^Input 'strictBuildArgs': .*The build-arg NUGET_FEED is not declared by any ARG/],
  ['an unknown template token', { tags: '{{commit}}' }, /^Input 'tags': unknown template token \{\{commit\}\}/],
];

for (const [what, inputs, message] of badInputs) {
  test(`bad input fails before anything runs: ${what}`, async () => {
    const { job, docker, env } = stubJob();
    try {
      const report = await job.step('MsrBuildPush', {
        inputs: { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile', ...inputs }, env,
      });
      assert.equal(report.result, 'Failed');
      assert.match(report.message, message);
      assert.deepEqual(report.errors, [report.message]);
      assert.deepEqual(docker.calls(), []);
      assert.deepEqual(job.leftInTemp(), []);
    } finally {
      job.dispose();
    }
  });
}

test('a build that exits non-zero fails the task and pushes nothing', async () => {
  const { job, docker, env } = stubJob();
  try {
    const report = await job.step('MsrBuildPush', {
      inputs: { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile' }, env: { ...env, STUB_BUILD_EXIT: '2' },
    });
    assert.equal(report.result, 'Failed');
    assert.equal(report.message, 'The docker build failed with exit code 2; its output is above.');
    assert.deepEqual(docker.calls().map((c) => c.argv[0]), ['build']);
    assert.deepEqual(report.outputs, {});
    assert.deepEqual(job.leftInTemp(), []);
  } finally {
    job.dispose();
  }
});

test('buildah: MsrLogin then MsrBuildPush to a real registry, checked with skopeo', async (t) => {
  if (!requireTool(t, 'buildah', 'skopeo', 'docker-registry', 'htpasswd', 'openssl')) return;
  const user = 'robot$web+ci';
  const token = 'msr-token-Bp47_q';
  const registry = await startRegistry({ users: { [user]: token } });
  // buildah and skopeo trust a registry's CA from certs.d (the tests run as root).
  const certsDir = path.join('/etc/containers/certs.d', registry.host);
  fs.mkdirSync(certsDir, { recursive: true });
  fs.copyFileSync(registry.ca, path.join(certsDir, 'ca.crt'));
  const repository = `${registry.host}/web/techorama`;
  const storage = { STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot' };
  const job = new Job({
    secrets: { DOCKER_REGISTRY_TOKEN: token },
    env: { NODE_EXTRA_CA_CERTS: registry.ca },
    sourceFiles: {
      'app/Dockerfile': [
        'ARG BASE=scratch',
        'FROM ${BASE} AS content',
        'COPY hello.txt /hello.txt',
        '',
        'FROM ${BASE} AS final',
        'ARG COMMIT_ID',
        'COPY --from=content /hello.txt /srv/hello.txt',
        'LABEL com.example.commit=${COMMIT_ID}',
        '',
      ].join('\n'),
      'app/hello.txt': 'hello from the pipeline\n',
    },
  });
  const tags = ['9f86d08', 'main', 'latest'];
  try {
    const login = await job.step('MsrLogin', {
      name: 'login', inputs: { registry: registry.host, username: user, accessToken: '$(DOCKER_REGISTRY_TOKEN)' },
    });
    assert.equal(login.result, 'Succeeded', login.message);
    const report = await job.step('MsrBuildPush', {
      name: 'image',
      inputs: { repository, dockerfile: 'app/Dockerfile', engine: 'buildah', tags: '{{sha}}\n{{branch}}\nlatest' },
      env: storage,
      timeoutMs: 600_000,
    });
    assert.equal(report.result, 'Succeeded', `${report.message}\n${report.stdout}\n${report.stderr}`);
    assert.ok(!report.stdout.includes(token) && !report.stderr.includes(token));

    const credentials = `${user}:${token}`;
    const skopeo = (...args) => JSON.parse(execFileSync('skopeo', [...args, '--creds', credentials], { encoding: 'utf8' }));
    const listed = skopeo('list-tags', `docker://${repository}`);
    assert.deepEqual([...listed.Tags].sort(), [...tags].sort());
    const inspected = skopeo('inspect', `docker://${repository}:9f86d08`);
    assert.equal(inspected.Labels['com.example.commit'], '9f86d08');
    assert.equal(inspected.Labels['org.opencontainers.image.revision'], SHA);
    assert.equal(inspected.Labels['org.opencontainers.image.source'], 'https://dev.azure.com/contoso/web/_git/techorama');
    assert.equal(inspected.Labels['org.opencontainers.image.version'], '9f86d08');
    assert.equal(inspected.Labels['org.opencontainers.image.title'], 'techorama');
    assert.match(inspected.Labels['org.opencontainers.image.created'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The digest output is the manifest the registry serves for the first tag.
    assert.equal(report.outputs.digest, inspected.Digest);
    assert.equal(report.outputs.imageRefDigest, `${repository}@${inspected.Digest}`);
    const byDigest = skopeo('inspect', `docker://${repository}@${report.outputs.digest}`);
    assert.equal(byDigest.Digest, inspected.Digest);

    await job.finish();
    assert.deepEqual(leftByStep(job), []);
  } finally {
    try {
      execFileSync('buildah', ['rmi', ...tags.map((tag) => `${repository}:${tag}`)], {
        env: { ...process.env, ...storage }, stdio: 'ignore',
      });
    } catch {
      // nothing to remove when the build failed
    }
    fs.rmSync(certsDir, { recursive: true, force: true });
    registry.stop();
    job.dispose();
  }
});

test('analyseDockerfile (the core export) finds nothing wrong in the sample Dockerfiles and the mistakes in the bad one', () => {
  const core = createRequire(import.meta.url)(path.join(buildDir, 'wasm', 'msr_build_push', 'msr_build_push.js'));
  const samples = {
    'dotnet-multistage.Dockerfile': [['base', 'build', 'publish', 'runtime'], { COMMIT_ID: 'abc1234' }],
    'linux-agent.Dockerfile': [['kubectl', 'helm', 'agent-download', 'agent'], { HELM_VERSION: '3.16.1' }],
    // null: the builder takes the value from its environment.
    'windows-agent.Dockerfile': [['download', 'agent'], { AGENT_VERSION: null }],
    'defaults-and-heredocs.Dockerfile': [['build', 'runtime'], { APP_VERSION: '2.1.0' }],
  };
  for (const [file, [stages, buildArgs]] of Object.entries(samples)) {
    const analysis = core.analyseDockerfile({ text: corpus(file), buildArgs });
    assert.deepEqual(analysis.findings, [], file);
    assert.deepEqual(analysis.stages.map((s) => s.name), stages, file);
  }
  const mistakes = core.analyseDockerfile({ text: corpus('mistakes.Dockerfile'), buildArgs: { VERSON: '1' } });
  assert.deepEqual(mistakes.findings.map((f) => [f.severity, f.line]), [
    ['warning', 4], ['warning', 4], ['warning', 9], ['warning', null],
  ]);
  assert.match(mistakes.findings[2].message, /^Dockerfile line 9: \$VERSION is empty here: the global ARG VERSION \(line 3\)/);
  // Hostile nesting is an error finding, not a WebAssembly stack overflow.
  const nested = core.analyseDockerfile({ text: `FROM alpine\nWORKDIR ${'${A:-'.repeat(200_000)}\n` });
  assert.deepEqual(nested.findings.map((f) => f.message), [
    'Dockerfile line 2: substitutions are nested more than 32 deep.',
  ]);
  const broken = core.analyseDockerfile({ text: 'FROM alpine\nRUN <<EOF\necho\n' });
  assert.deepEqual(broken.findings, [{
    severity: 'error', line: 2, stage: null, message: 'Dockerfile line 2: the heredoc <<EOF is never closed: no line reads "EOF".',
  }]);
});

test('a push that is denied fails the task, names the image and stops', async () => {
  const { job, docker, env } = stubJob();
  try {
    const report = await job.step('MsrBuildPush', {
      inputs: { repository: REPOSITORY, dockerfile: 'src/web/Dockerfile', tags: 'v1\nlatest' }, env: { ...env, STUB_PUSH_EXIT: '1' },
    });
    assert.equal(report.result, 'Failed');
    assert.equal(report.message, `The docker push of ${REPOSITORY}:v1 failed with exit code 1; its output is above.`);
    assert.deepEqual(docker.calls().map((c) => c.argv[0]), ['build', 'push']);
    assert.deepEqual(report.outputs, {});
    assert.deepEqual(job.leftInTemp(), []);
  } finally {
    job.dispose();
  }
});
