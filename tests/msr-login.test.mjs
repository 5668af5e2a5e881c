// MsrLogin@1 against a real registry (Basic: htpasswd; Bearer: token auth
// behind tests/rig/token-issuer.mjs), checked with a real client (skopeo).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Job } from './rig/agent.mjs';
import { PROXY_ONLY_HOST, freePort, startRegistry } from './rig/registry.mjs';
import { startTokenRegistry } from './rig/token-issuer.mjs';
import { hasTool, pathWith, recordingStub, requireTool } from './rig/tools.mjs';

const execFileAsync = promisify(execFile);
const USER = 'robot$web+ci';
const TOKEN = 'msr-token-Zq81_x7';
const FORBIDDEN = 'locked-out';
const basicAuth = (user, token) => Buffer.from(`${user}:${token}`).toString('base64');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'msr-login-test-'));
let basic;
let bearer;
let caBundle;
let certDir;
let layout;

/** A one-layer OCI image layout for skopeo to push through the written config. */
function makeOciLayout(dir) {
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const put = (data) => {
    const digest = crypto.createHash('sha256').update(data).digest('hex');
    fs.writeFileSync(path.join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const tar = Buffer.alloc(1024); // an empty tar archive: two zero blocks
  const layer = put(zlib.gzipSync(tar));
  const diffId = `sha256:${crypto.createHash('sha256').update(tar).digest('hex')}`;
  const config = put(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] },
  })));
  const manifest = put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  })));
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
      annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  }));
  return dir;
}

const haveRegistry = hasTool('docker-registry') && hasTool('htpasswd') && hasTool('openssl');

before(async () => {
  if (!haveRegistry) return;
  basic = await startRegistry({ users: { [USER]: TOKEN, [FORBIDDEN]: TOKEN } });
  bearer = await startTokenRegistry({ users: { [USER]: TOKEN, [FORBIDDEN]: TOKEN }, forbidden: [FORBIDDEN] });
  // The two registries have their own CAs; the agent passes one bundle file.
  caBundle = path.join(scratch, 'ca-bundle.pem');
  fs.writeFileSync(caBundle, basic.caPem + bearer.registry.caPem);
  certDir = path.join(scratch, 'certs');
  fs.mkdirSync(certDir);
  fs.copyFileSync(caBundle, path.join(certDir, 'ca.crt'));
  layout = makeOciLayout(path.join(scratch, 'layout'));
});

after(() => {
  basic?.stop();
  bearer?.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

function ready(t) {
  return requireTool(t, 'docker-registry', 'htpasswd', 'openssl');
}

/** A job whose agent trusts the test CAs, as NODE_EXTRA_CA_CERTS on the agent would. */
function trustingJob(options = {}) {
  return new Job({ ...options, env: { NODE_EXTRA_CA_CERTS: caBundle, ...options.env } });
}

function inputs(registry, overrides = {}) {
  return { registry, username: USER, accessToken: '$(DOCKER_REGISTRY_TOKEN)', ...overrides };
}

const secrets = { DOCKER_REGISTRY_TOKEN: TOKEN };

/** The token and every auth string built from it: never printed, always registered before output. */
function assertNoLeak(report, { user = USER, token = TOKEN } = {}) {
  const forbidden = [token, basicAuth(user, token)];
  // The agent consumes its setsecret commands; every other line reaches the log.
  const printed = (text) => text.split('\n').filter((l) => !l.startsWith('##vso[task.setsecret]')).join('\n');
  for (const secret of forbidden) {
    assert.ok(!printed(report.stdout).includes(secret), 'a secret reached stdout');
    assert.ok(!printed(report.stderr).includes(secret), 'a secret reached stderr');
  }
}

function assertRegisteredFirst(report, { user = USER, token = TOKEN } = {}) {
  assert.ok(report.secrets.includes(token), 'the token is registered');
  assert.ok(report.secrets.includes(basicAuth(user, token)), 'the auth string is registered');
  // Nothing is printed before both are registered: only task-lib's own commands precede.
  const lines = report.stdout.split('\n');
  const registered = (secret) => lines.findIndex((l) => l === `##vso[task.setsecret]${secret}`);
  const last = Math.max(registered(token), registered(basicAuth(user, token)));
  assert.ok(registered(token) >= 0 && last >= 0);
  assert.ok(lines.slice(0, last).every((l) => l.startsWith('##vso[')), lines.slice(0, last).join('\n'));
  assert.equal(report.stderr, '');
}

/** Asynchronous: the token service answering skopeo runs in this process. */
async function skopeo(...args) {
  const { stdout } = await execFileAsync('skopeo', args, { encoding: 'utf8' });
  return stdout;
}

function mode(file) {
  return fs.statSync(file).mode & 0o777;
}

/** Runs `use(host)` with `server` listening on 127.0.0.1, and closes it afterwards. */
async function withServer(server, use) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await use(`127.0.0.1:${server.address().port}`);
  } finally {
    server.closeAllConnections?.();
    server.close();
  }
}

/** An HTTP proxy for CONNECT tunnels that resolves the names in `hosts` to 127.0.0.1 (as a
 *  proxy with its own DNS would) and records every tunnel requested. */
function tunnelProxy(hosts) {
  const tunnels = [];
  const server = net.createServer((client) => {
    client.once('data', (head) => {
      const [, target] = /^CONNECT (\S+) HTTP/.exec(head.toString('latin1')) || [];
      tunnels.push(target);
      const [host, port] = target.split(/:(?=\d+$)/);
      const upstream = net.connect(Number(port), hosts.includes(host) ? '127.0.0.1' : host, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
    });
    client.on('error', () => {});
  });
  return { server, tunnels };
}

describe('MsrLogin against a Basic (htpasswd) registry', () => {
  test('writes a 0600 config.json in a 0700 job directory that skopeo can push and read with', async (t) => {
    if (!ready(t) || !requireTool(t, 'skopeo')) return;
    const job = trustingJob({ secrets });
    try {
      const report = await job.step('MsrLogin', { name: 'login', inputs: inputs(`https://${basic.host}/`) });
      assert.equal(report.result, 'Succeeded', report.message);
      assertNoLeak(report);
      assertRegisteredFirst(report);
      const dir = report.outputs.dockerConfig;
      assert.equal(path.dirname(dir), job.tempDirectory);
      assert.equal(report.variables.DOCKER_CONFIG.value, dir);
      assert.equal(report.variables.DOCKER_CONFIG.isOutput, false);
      assert.equal(mode(dir), 0o700);
      const file = path.join(dir, 'config.json');
      assert.equal(mode(file), 0o600);
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')),
        { auths: { [basic.host]: { auth: basicAuth(USER, TOKEN) } } });
      assert.equal(report.summaries.length, 1);
      const summary = fs.readFileSync(report.summaries[0], 'utf8');
      assert.match(summary, /verified \(HTTP Basic\)/);
      assert.ok(!summary.includes(TOKEN) && !summary.includes(basicAuth(USER, TOKEN)));

      await skopeo('copy', '--dest-authfile', file, '--dest-cert-dir', certDir, `oci:${layout}:latest`,
        `docker://${basic.host}/web/app:v1`);
      const tags = JSON.parse(await skopeo('list-tags', '--authfile', file, '--cert-dir', certDir, `docker://${basic.host}/web/app`));
      assert.deepEqual(tags.Tags, ['v1']);
      // Without the written file the registry refuses the same client.
      await assert.rejects(skopeo('list-tags', '--authfile', path.join(scratch, 'none.json'), '--cert-dir', certDir,
        `docker://${basic.host}/web/app`), /unauthorized|authentication required/i);

      const posts = await job.finish();
      assert.equal(posts[0].result, 'Succeeded');
      assertNoLeak(posts[0]);
      assert.ok(!fs.existsSync(dir), 'the post-job step removed the directory it created');
      assert.deepEqual(job.leftInTemp().filter((f) => f.startsWith('msr-login')), []);
    } finally {
      job.dispose();
    }
  });

  test('a token pasted with surrounding spaces is used trimmed and registered as used', async (t) => {
    if (!ready(t)) return;
    const job = trustingJob({ secrets: { DOCKER_REGISTRY_TOKEN: `  ${TOKEN}  ` } });
    try {
      const report = await job.step('MsrLogin', { inputs: inputs(basic.host) });
      assert.equal(report.result, 'Succeeded', report.message);
      // The raw input (spaces and all) is not the string a later print would show.
      assertRegisteredFirst(report);
      assertNoLeak(report);
      const config = JSON.parse(fs.readFileSync(path.join(report.outputs.dockerConfig, 'config.json'), 'utf8'));
      assert.deepEqual(config.auths, { [basic.host]: { auth: basicAuth(USER, TOKEN) } });
    } finally {
      job.dispose();
    }
  });

  test('a service connection supplies registry, account and token', async (t) => {
    if (!ready(t)) return;
    const job = trustingJob();
    try {
      // As ADO sends a dockerregistry connection: the registry is an authorization
      // parameter, which docker logs in to; the connection's URL is not used when it is set.
      const report = await job.step('MsrLogin', {
        inputs: { containerRegistry: 'msr' },
        endpoints: {
          msr: {
            url: 'https://unused.invalid/',
            scheme: 'UsernamePassword',
            parameters: { registry: `https://${basic.host}`, username: USER, password: TOKEN, email: 'ci@example.com' },
          },
        },
      });
      assert.equal(report.result, 'Succeeded', report.message);
      assertNoLeak(report);
      assert.ok(report.secrets.includes(TOKEN) && report.secrets.includes(basicAuth(USER, TOKEN)));
      const config = JSON.parse(fs.readFileSync(path.join(report.outputs.dockerConfig, 'config.json'), 'utf8'));
      assert.deepEqual(config.auths, { [basic.host]: { auth: basicAuth(USER, TOKEN) } });
    } finally {
      job.dispose();
    }
  });

  test('goes through the agent proxy with a CONNECT tunnel', async (t) => {
    if (!ready(t)) return;
    // The registry's name resolves only here, as on an agent that reaches MSR only through its proxy.
    const { server: proxy, tunnels } = tunnelProxy([PROXY_ONLY_HOST]);
    await withServer(proxy, async (proxyHost) => {
      const job = trustingJob({ secrets, variables: { 'Agent.ProxyUrl': `http://${proxyHost}` } });
      try {
        const registry = `${PROXY_ONLY_HOST}:${basic.port}`;
        const report = await job.step('MsrLogin', { inputs: inputs(registry) });
        assert.equal(report.result, 'Succeeded', report.message);
        assert.deepEqual(tunnels, [registry, registry]);
        assert.match(report.stdout, new RegExp(`MSR at ${registry} accepted the credentials`));
        assertNoLeak(report);
      } finally {
        job.dispose();
      }
    });
  });

  test('keeps the user\'s other logins, credential helpers, proxies and plugins but never writes to the user\'s own config', async (t) => {
    if (!ready(t)) return;
    const job = trustingJob({ secrets });
    try {
      const userConfig = path.join(job.home, '.docker', 'config.json');
      // A per-user buildx: docker looks for plugins under DOCKER_CONFIG, so the new file points back here.
      fs.mkdirSync(path.join(job.home, '.docker', 'cli-plugins'), { recursive: true });
      const proxies = { default: { httpProxy: 'http://proxy.example.com:3128' } };
      // A login to another registry (a private base image's), and an old one to this registry.
      const original = JSON.stringify({
        auths: { 'other.io': { auth: 'b3RoZXI6c2VjcmV0' }, [basic.host]: { auth: basicAuth(USER, 'old-token') } },
        credHelpers: { 'gcr.io': 'gcloud' }, credsStore: 'desktop', proxies,
      });
      fs.writeFileSync(userConfig, original);
      const report = await job.step('MsrLogin', { inputs: inputs(basic.host) });
      assert.equal(report.result, 'Succeeded', report.message);
      assert.equal(fs.readFileSync(userConfig, 'utf8'), original);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(report.outputs.dockerConfig, 'config.json'), 'utf8')), {
        auths: { 'other.io': { auth: 'b3RoZXI6c2VjcmV0' }, [basic.host]: { auth: basicAuth(USER, TOKEN) } },
        credHelpers: { 'gcr.io': 'gcloud' }, proxies,
        cliPluginsExtraDirs: [path.join(job.home, '.docker', 'cli-plugins')],
      });
      // The store would hide the entry written here, so it is left out, and the step says what that costs.
      assert.equal(report.warnings.length, 1);
      assert.match(report.warnings[0], new RegExp(`^${userConfig.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} keeps logins in the credential store "desktop", `
        + 'which this job\'s Docker config leaves out .*registries logged in to only in that store are not available to later steps'));
    } finally {
      job.dispose();
    }
  });

  test('loginMethod docker pipes the token to docker login --password-stdin only', async (t) => {
    if (!ready(t)) return;
    const bin = path.join(scratch, 'bin-docker');
    // Behaves like docker's file store: login adds the entry, logout removes it.
    const docker = recordingStub(bin, 'docker', `(argv, stdin, env) => {
      const fs = require('fs');
      const file = env.DOCKER_CONFIG + '/config.json';
      const config = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
      config.auths = config.auths || {};
      if (argv[0] === 'login') config.auths[argv[argv.length - 1]] = { auth: Buffer.from(argv[2] + ':' + stdin.trim()).toString('base64') };
      if (argv[0] === 'logout') delete config.auths[argv[1]];
      fs.writeFileSync(file, JSON.stringify(config));
      return { stdout: 'Login Succeeded\\n' };
    }`, { recordEnv: ['INPUT_ACCESSTOKEN'] });
    const job = trustingJob({ secrets, env: { PATH: pathWith(bin) } });
    try {
      const report = await job.step('MsrLogin', { inputs: inputs(basic.host, { loginMethod: 'docker' }) });
      assert.equal(report.result, 'Succeeded', `${report.message}\n${report.stderr}`);
      assertNoLeak(report);
      const dir = report.outputs.dockerConfig;
      const [login] = docker.calls();
      assert.deepEqual(login.argv, ['login', '--username', USER, '--password-stdin', basic.host]);
      assert.equal(login.stdin, TOKEN);
      assert.equal(login.env.INPUT_ACCESSTOKEN, undefined, 'the token is not in docker\'s environment');
      // docker login ran with DOCKER_CONFIG at the job's directory: its entry is there.
      const file = path.join(dir, 'config.json');
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).auths, { [basic.host]: { auth: basicAuth(USER, TOKEN) } });
      assert.equal(mode(file), 0o600);
      const posts = await job.finish();
      assert.equal(posts[0].result, 'Succeeded');
      assertNoLeak(posts[0]);
      const calls = docker.calls();
      assert.deepEqual(calls.map((c) => c.argv), [login.argv, ['logout', basic.host]]);
      for (const call of calls) assert.ok(!call.argv.some((a) => a.includes(TOKEN) || a.includes(basicAuth(USER, TOKEN))));
      assert.ok(!fs.existsSync(dir));
    } finally {
      job.dispose();
    }
  });
});

for (const heldBefore of [true, false]) {
  test(`loginMethod docker with a credential store ${heldBefore ? 'that already holds the registry leaves that entry'
    : 'logs out after the job'}`, async (t) => {
    if (!ready(t)) return;
    const bin = path.join(scratch, `bin-store-${heldBefore}`);
    const ADMIN_SECRET = 'admin-secret-0f3a9';
    // The store as docker-credential-pass sees it: the agent user's, shared by every job.
    const store = heldBefore ? { [basic.host]: { Username: 'admin', Secret: ADMIN_SECRET } } : {};
    const helper = recordingStub(bin, 'docker-credential-pass', `(argv, stdin) => {
      const entry = ${JSON.stringify(store)}[stdin.trim()];
      if (argv[0] === 'get' && entry) return { stdout: JSON.stringify({ ServerURL: stdin.trim(), ...entry }) };
      return { stdout: 'credentials not found in native keychain\\n', code: 1 };
    }`);
    const docker = recordingStub(bin, 'docker', `() => ({ stdout: 'Login Succeeded\\n' })`);
    const job = trustingJob({ secrets, env: { PATH: pathWith(bin) } });
    try {
      fs.mkdirSync(path.join(job.home, '.docker'));
      fs.writeFileSync(path.join(job.home, '.docker', 'config.json'), JSON.stringify({ credsStore: 'pass' }));
      const report = await job.step('MsrLogin', { inputs: inputs(basic.host, { loginMethod: 'docker' }) });
      assert.equal(report.result, 'Succeeded', `${report.message}\n${report.stderr}`);
      assertNoLeak(report);
      assert.ok(!report.stdout.includes(ADMIN_SECRET), 'what the store holds is never printed');
      // The helper is asked before docker login writes to the store.
      assert.deepEqual(helper.calls().map((c) => [c.argv, c.stdin]), [[['get'], basic.host]]);
      const [login] = docker.calls();
      assert.deepEqual(login.argv, ['login', '--username', USER, '--password-stdin', basic.host]);
      // docker login uses the job's config, which keeps the store.
      const dir = report.outputs.dockerConfig;
      const jobConfig = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      assert.equal(jobConfig.credsStore, 'pass');
      if (heldBefore) {
        assert.equal(report.warnings.length, 1);
        assert.match(report.warnings[0], new RegExp(`^The credential store "pass" already holds a login for ${basic.host}, `
          + 'shared by every job of this agent\'s user: docker login replaces it .* leaves that entry in place'));
      } else {
        assert.deepEqual(report.warnings, []);
      }

      const [post] = await job.finish();
      assert.equal(post.result, 'Succeeded');
      assert.deepEqual(post.warnings, []);
      const after = docker.calls().map((c) => c.argv);
      if (heldBefore) {
        assert.deepEqual(after, [login.argv], 'no docker logout: it would delete the entry the store held before the job');
        assert.match(post.stdout, new RegExp(`Not running docker logout for ${basic.host}: its credential store held a login`));
      } else {
        assert.deepEqual(after, [login.argv, ['logout', basic.host]]);
      }
      assert.ok(!fs.existsSync(dir));
    } finally {
      job.dispose();
    }
  });
}

test('a failing docker login fails the step and leaves no directory', async (t) => {
  if (!ready(t)) return;
  const bin = path.join(scratch, 'bin-docker-fails');
  const docker = recordingStub(bin, 'docker', `() => ({ stderr: 'Error saving credentials: no credential store\\n', code: 1 })`);
  const job = trustingJob({ secrets, env: { PATH: pathWith(bin) } });
  try {
    const report = await job.step('MsrLogin', { inputs: inputs(basic.host, { loginMethod: 'docker' }) });
    assert.equal(report.result, 'Failed');
    assert.equal(report.message, `docker login to ${basic.host} failed (exit code 1).`);
    assert.equal(docker.calls()[0].stdin, TOKEN);
    assert.deepEqual(job.leftInTemp(), []);
    assertNoLeak(report);
  } finally {
    job.dispose();
  }
});

describe('MsrLogin against a token-auth (Bearer) registry', () => {
  test('follows the token protocol and skopeo reaches the registry with the written file', async (t) => {
    if (!ready(t) || !requireTool(t, 'skopeo')) return;
    const job = trustingJob({ secrets });
    try {
      const report = await job.step('MsrLogin', { inputs: inputs(bearer.registry.host) });
      assert.equal(report.result, 'Succeeded', report.message);
      assertNoLeak(report);
      assertRegisteredFirst(report);
      const [tokenRequest] = bearer.issuer.requests.slice(-1);
      assert.deepEqual(tokenRequest, { path: '/token', query: { service: 'test-registry', account: USER }, user: USER });
      // The issued registry token is registered too, and never printed.
      const issued = report.secrets.filter((s) => s.split('.').length === 3);
      assert.equal(issued.length, 1);
      assertNoLeak(report, { token: issued[0] });
      const summary = fs.readFileSync(report.summaries[0], 'utf8');
      assert.match(summary, /bearer token from https:\/\/127\.0\.0\.1:\d+\/token/);

      const file = path.join(report.outputs.dockerConfig, 'config.json');
      await skopeo('copy', '--dest-authfile', file, '--dest-cert-dir', certDir, `oci:${layout}:latest`,
        `docker://${bearer.registry.host}/web/app:v2`);
      const image = JSON.parse(await skopeo('inspect', '--authfile', file, '--cert-dir', certDir,
        `docker://${bearer.registry.host}/web/app:v2`));
      assert.equal(image.Os, 'linux');
    } finally {
      job.dispose();
    }
  });

  test('two logins in one job merge into one file; each post-job step removes its own part', async (t) => {
    if (!ready(t)) return;
    const job = trustingJob({ secrets });
    try {
      const first = await job.step('MsrLogin', { name: 'basic', inputs: inputs(basic.host) });
      const second = await job.step('MsrLogin', { name: 'bearer', inputs: inputs(bearer.registry.host) });
      assert.equal(first.result, 'Succeeded', first.message);
      assert.equal(second.result, 'Succeeded', second.message);
      const dir = first.outputs.dockerConfig;
      assert.equal(second.outputs.dockerConfig, dir);
      const file = path.join(dir, 'config.json');
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).auths, {
        [basic.host]: { auth: basicAuth(USER, TOKEN) },
        [bearer.registry.host]: { auth: basicAuth(USER, TOKEN) },
      });
      assert.equal(mode(file), 0o600);
      assert.match(fs.readFileSync(second.summaries[0], 'utf8'), /\(merged\)/);

      // The agent runs post-job steps last step first: the second removes only its entry.
      const secondPost = job.postJobSteps.pop();
      const report = await job.execute('MsrLogin', 'postjobexecution', secondPost);
      assert.equal(report.result, 'Succeeded');
      assertNoLeak(report);
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { auths: { [basic.host]: { auth: basicAuth(USER, TOKEN) } } });
      const [firstPost] = await job.finish();
      assert.equal(firstPost.result, 'Succeeded');
      assertNoLeak(firstPost);
      for (const step of [first, second]) assertNoLeak(step);
      assert.ok(!fs.existsSync(dir));
    } finally {
      job.dispose();
    }
  });
});

describe('MsrLogin refuses bad input and bad answers, leaving nothing behind', () => {
  const rejected = (registry, user = USER) => `MSR rejected the credentials of ${user} at ${registry}`;
  const cases = [
    ['a registry with a path', () => ({ inputs: inputs(`${basic.host}/web/app`) }),
      /^Input 'registry': ".*\/web\/app" has a path/],
    ['an empty token', () => ({ inputs: inputs(basic.host, { accessToken: '' }) }),
      /^Input 'accessToken': the access token is empty/],
    ['an undefined secret variable', () => ({ inputs: inputs(basic.host), noSecret: true }),
      /^Input 'accessToken': \$\(DOCKER_REGISTRY_TOKEN\) is not a defined variable/],
    ['a wrong token (Basic, 401)', () => ({ inputs: inputs(basic.host, { accessToken: 'wrong-token' }) }),
      () => new RegExp(`^${escape(rejected(basic.host))}$`), 'wrong-token'],
    ['a wrong token (token service, 401)', () => ({ inputs: inputs(bearer.registry.host, { accessToken: 'wrong-token' }) }),
      () => new RegExp(`^${escape(rejected(bearer.registry.host))}$`), 'wrong-token'],
    ['an account the token service forbids (403)', () => ({ inputs: inputs(bearer.registry.host, { username: FORBIDDEN }) }),
      () => new RegExp(`^${escape(rejected(bearer.registry.host, FORBIDDEN))}$`), TOKEN, FORBIDDEN],
    ['a refused connection', async () => ({ inputs: inputs(`127.0.0.1:${await freePort()}`) }),
      /^Could not reach MSR at 127\.0\.0\.1:\d+ \(https:\/\/127\.0\.0\.1:\d+\/v2\/\): connect ECONNREFUSED/],
    ['a certificate the agent does not trust', () => ({ inputs: inputs(basic.host), env: { NODE_EXTRA_CA_CERTS: '' } }),
      /^Could not reach MSR at 127\.0\.0\.1:\d+: its TLS certificate was not accepted \(.*certificate.*\)/],
    ['a token service that answers garbage', () => ({ inputs: inputs(bearer.registry.host), garbage: true }),
      /^The token service https:\/\/127\.0\.0\.1:\d+\/token of MSR at 127\.0\.0\.1:\d+ answered without a usable token/],
  ];
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\$]/g, '\\$&');

  for (const [name, setup, expected, token = TOKEN, user = USER] of cases) {
    test(name, async (t) => {
      if (!ready(t)) return;
      const { garbage, noSecret, ...step } = await setup();
      const job = trustingJob({ secrets: noSecret ? {} : { DOCKER_REGISTRY_TOKEN: token } });
      if (garbage) bearer.issuer.mode = 'garbage';
      try {
        const report = await job.step('MsrLogin', step);
        assert.equal(report.result, 'Failed');
        assert.match(report.message, typeof expected === 'function' ? expected() : expected);
        assert.deepEqual(report.errors, [report.message]);
        assert.equal(report.variables.DOCKER_CONFIG, undefined);
        assert.deepEqual(report.outputs, {});
        assert.deepEqual(job.leftInTemp(), []);
        assertNoLeak(report, { user, token });
        for (const post of await job.finish()) {
          assert.equal(post.result, 'Succeeded');
          assertNoLeak(post, { user, token });
        }
      } finally {
        bearer.issuer.mode = 'tokens';
        job.dispose();
      }
    });
  }

  test('verifyCredentials: false skips the check (no registry needed)', async (t) => {
    if (!ready(t)) return;
    const job = new Job({ secrets });
    try {
      const host = `127.0.0.1:${await freePort()}`;
      const report = await job.step('MsrLogin', { inputs: inputs(host, { verifyCredentials: 'false' }) });
      assert.equal(report.result, 'Succeeded', report.message);
      assertNoLeak(report);
      assert.match(fs.readFileSync(report.summaries[0], 'utf8'), /not checked/);
    } finally {
      job.dispose();
    }
  });
});

describe('MsrLogin explains a server it cannot use, leaving nothing behind', () => {
  /** Runs a login against `registry` and checks the failure and that the job is clean. */
  async function failedLogin(registry, options = {}) {
    const job = trustingJob({ secrets, ...options });
    try {
      const report = await job.step('MsrLogin', { inputs: inputs(registry) });
      assert.equal(report.result, 'Failed');
      assert.deepEqual(report.errors, [report.message]);
      assert.deepEqual(job.leftInTemp(), []);
      assertNoLeak(report);
      return report;
    } finally {
      job.dispose();
    }
  }

  test('a token service address with an invalid port is refused naming the registry', async (t) => {
    if (!ready(t)) return;
    const realm = 'https://auth.example.com:abc/token';
    const server = https.createServer({ cert: fs.readFileSync(basic.certs.cert), key: fs.readFileSync(basic.certs.key) },
      (request, response) => {
        response.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="s"` });
        response.end();
      });
    await withServer(server, async (host) => {
      const report = await failedLogin(host);
      assert.equal(report.message, `MSR at ${host} sent an invalid token service address "${realm}" `
        + '(expected https://host[:port]/path); the task does not send credentials there');
    });
  });

  test('a proxy that never answers the tunnel request fails the step after 30 seconds', async (t) => {
    if (!ready(t)) return;
    const silent = net.createServer((client) => client.on('error', () => {}));
    await withServer(silent, async (proxyHost) => {
      const started = Date.now();
      const report = await failedLogin(basic.host, { variables: { 'Agent.ProxyUrl': `http://${proxyHost}` } });
      assert.equal(report.message, `Could not reach MSR at ${basic.host} (https://${basic.host}/v2/): `
        + `the agent's proxy ${proxyHost} did not answer the tunnel request within 30 seconds`);
      assert.ok(Date.now() - started < 60_000);
    });
  });

  test('a port that answers plain HTTP is named as not speaking HTTPS', async (t) => {
    if (!ready(t)) return;
    await withServer(http.createServer((request, response) => response.end('plain')), async (host) => {
      const report = await failedLogin(host);
      assert.equal(report.message, `Could not reach MSR at ${host}: it does not speak HTTPS on this port (https://${host}/v2/)`);
    });
  });

  test('a certificate for another host name is named as such, not as an untrusted CA', async (t) => {
    if (!ready(t)) return;
    // The name reaches the registry through a proxy, but its certificate does not list it.
    const name = 'msr.wrong-name.test';
    const { server: proxy } = tunnelProxy([name]);
    await withServer(proxy, async (proxyHost) => {
      const report = await failedLogin(`${name}:${basic.port}`, { variables: { 'Agent.ProxyUrl': `http://${proxyHost}` } });
      assert.match(report.message, new RegExp(`^Could not reach MSR at ${name}:${basic.port}: its certificate is not for ${name} \\(.+\\)$`));
      assert.doesNotMatch(report.message, /NODE_EXTRA_CA_CERTS/);
    });
  });
});

test('the post-job step touches nothing outside Agent.TempDirectory and never fails', async () => {
  const job = new Job();
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'msr-login-outside-'));
  try {
    fs.writeFileSync(path.join(outside, 'config.json'), '{"auths":{"r":{"auth":"eA=="}}}');
    // A later step could swap the directory for a symlink leading out of temp.
    const link = path.join(job.tempDirectory, 'msr-login-swapped');
    fs.symlinkSync(outside, link);
    const state = (directory, created) => ({
      MsrLoginState: { value: JSON.stringify({ directory, created, registry: 'r', loginMethod: 'config' }) },
    });
    for (const taskVariables of [
      state(outside, true),
      state(outside, false),
      state(`${job.tempDirectory}/../${path.basename(outside)}`, true),
      state(job.tempDirectory, true),
      state(link, true),
      state(link, false),
      { MsrLoginState: { value: 'not json' } },
    ]) {
      const report = await job.execute('MsrLogin', 'postjobexecution', { inputs: {}, endpoints: {}, env: {}, taskVariables });
      assert.equal(report.result, 'Succeeded');
      assert.deepEqual(report.warnings, []);
    }
    assert.equal(fs.readFileSync(path.join(outside, 'config.json'), 'utf8'), '{"auths":{"r":{"auth":"eA=="}}}');
    assert.ok(fs.existsSync(job.tempDirectory));
    assert.ok(fs.lstatSync(link).isSymbolicLink());
  } finally {
    fs.rmSync(outside, { recursive: true, force: true });
    job.dispose();
  }
});
