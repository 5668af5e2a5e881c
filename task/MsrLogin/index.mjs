// MsrLogin@1 shim: reads the inputs (or the service connection), performs the
// HTTPS requests and file writes the core decides, and reports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startTask, readInputs, readEndpointSecret, registerSecret, runTool, setOutputs, uploadSummary, agentTempDirectory, log, tl, core,
} from '../common/runtime.mjs';

// The task variable the core saves for the post-job step (msr_login::SAVED_VARIABLE).
const STATE = 'MsrLoginState';

function readEndpoint(id) {
  if (!id) return null;
  const password = readEndpointSecret(id, 'password');
  const param = (name) => tl.getEndpointAuthorizationParameter(id, name, true) ?? null;
  return {
    url: tl.getEndpointUrl(id, true) ?? null,
    scheme: tl.getEndpointAuthorizationScheme(id, true) ?? null,
    registry: param('registry'),
    username: param('username'),
    password,
  };
}

/** The path with symlinks resolved, or null when it does not exist. */
function realPathOrNull(file) {
  if (!file) return null;
  try {
    return fs.realpathSync(file);
  } catch {
    return null;
  }
}

/** Agent.TempDirectory as a real path, which the core compares other real paths with. */
function realTempDirectory() {
  return realPathOrNull(agentTempDirectory()) ?? agentTempDirectory();
}

function readFileOrNull(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw error;
  }
}

/** Writes a file 0600, replacing the old one in one step. */
function writePrivateFile(file, contents) {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(temporary, contents, { mode: 0o600 });
  fs.chmodSync(temporary, 0o600);
  fs.renameSync(temporary, file);
}

/** A TLS socket to `url` through the agent's proxy (HTTP CONNECT), or null for a direct connection.
 *  A proxy that does not answer within `timeoutSeconds` fails the request, as the server would. */
function proxyTunnel(url, timeoutSeconds, { http, net, tls }) {
  const proxy = tl.getHttpProxyConfiguration(url.href);
  if (!proxy?.proxyUrl) return null;
  registerSecret(proxy.proxyPassword);
  const proxyUrl = new URL(proxy.proxyUrl);
  const headers = { host: url.host };
  if (proxy.proxyUsername) {
    const basic = Buffer.from(`${proxy.proxyUsername}:${proxy.proxyPassword ?? ''}`).toString('base64');
    registerSecret(basic);
    headers['proxy-authorization'] = `Basic ${basic}`;
  }
  // WHATWG URLs keep IPv6 brackets in `hostname`, as CONNECT wants them.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const connect = http.request({
      host: proxyUrl.hostname, port: proxyUrl.port || 80, method: 'CONNECT',
      path: `${url.hostname}:${url.port || 443}`, headers,
    });
    let answered = false;
    // Covers connecting to the proxy and waiting for its answer.
    connect.setTimeout(timeoutSeconds * 1000, () => {
      if (answered) return;
      connect.destroy(Object.assign(
        new Error(`the agent's proxy ${proxyUrl.host} did not answer the tunnel request within ${timeoutSeconds} seconds`),
        { code: 'ETIMEDOUT' },
      ));
    });
    connect.once('connect', (response, socket) => {
      answered = true;
      socket.setTimeout(0); // the request on the tunnel has its own timeout
      if (response.statusCode !== 200) {
        socket.destroy();
        reject(Object.assign(new Error(`the agent's proxy ${proxyUrl.host} refused the tunnel (HTTP ${response.statusCode})`),
          { code: 'EPROXY' }));
        return;
      }
      resolve(tls.connect({ socket, host, servername: net.isIP(host) ? undefined : host }));
    });
    connect.once('error', reject);
    connect.end();
  });
}

/** Performs one request of the core's credentials check; resolves to its outcome. */
async function perform(request, network) {
  const url = new URL(request.url);
  let tunnel;
  try {
    tunnel = await proxyTunnel(url, request.timeoutSeconds, network);
  } catch (error) {
    return { status: null, errorCode: error.code ?? null, errorMessage: error.message };
  }
  return new Promise((resolve) => {
    const options = {
      method: request.method,
      // One request per connection: a proxy tunnel must not keep the step alive.
      headers: { ...request.headers, 'user-agent': 'MsrLogin/1 (Azure Pipelines)', accept: 'application/json', connection: 'close' },
      timeout: request.timeoutSeconds * 1000,
      // No agent: an agent would open its own connection and ignore createConnection.
      ...(tunnel ? { createConnection: () => tunnel } : { agent: false }),
    };
    const req = network.https.request(url, options, (response) => {
      const chunks = [];
      let size = 0;
      response.on('data', (chunk) => {
        size += chunk.length;
        if (size <= 65536) chunks.push(chunk);
      });
      response.on('end', () => {
        const headers = {};
        for (const [name, value] of Object.entries(response.headers)) {
          headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
        }
        tunnel?.destroy();
        resolve({ status: response.statusCode, headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', (error) => resolve({ status: null, errorCode: error.code ?? null, errorMessage: error.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${request.timeoutSeconds} seconds`),
      { code: 'ETIMEDOUT' })));
    req.on('error', (error) => {
      tunnel?.destroy();
      resolve({ status: null, errorCode: error.code ?? null, errorMessage: error.message });
    });
    req.end();
  });
}

/** Runs the core's request sequence; resolves to how the registry accepted the credentials. */
async function verifyCredentials(planRequest, first) {
  // Loaded here, not at start-up: a login without the check never pays for the HTTPS stack (~10 ms).
  const network = {
    http: (await import('node:http')).default,
    https: (await import('node:https')).default,
    net: (await import('node:net')).default,
    tls: (await import('node:tls')).default,
  };
  let request = first;
  for (;;) {
    log(`Checking the credentials: ${request.description}`);
    const outcome = await perform(request, network);
    const next = core.msrLoginVerify({ plan: planRequest, stage: request.stage, outcome });
    if (next.kind === 'verified') {
      if (next.warning) tl.warning(next.warning);
      return next.how;
    }
    for (const secret of next.secrets) registerSecret(secret);
    request = next.request;
  }
}

async function main(workspace) {
  const inputs = readInputs({ secret: ['accessToken'] });
  const planRequest = {
    inputs,
    endpoint: readEndpoint(inputs.containerRegistry),
    agentTempDirectory: realTempDirectory(),
    dockerConfig: realPathOrNull(tl.getVariable('DOCKER_CONFIG')),
    home: os.homedir(),
  };
  const plan = core.msrLoginPlan(planRequest);
  for (const secret of plan.secrets) registerSecret(secret);

  const verified = plan.verify ? await verifyCredentials(planRequest, plan.verify) : null;
  if (verified) log(`MSR at ${plan.registry} accepted the credentials of ${plan.username} (${verified}).`);

  const existing = readFileOrNull(plan.readConfig);
  const directory = plan.mergeInto ?? fs.realpathSync(workspace.directory('msr-login', { keep: true }));
  const writeRequest = {
    plan: planRequest, directory, existing, verified,
    userCliPlugins: fs.existsSync(path.join(path.dirname(plan.readConfig), 'cli-plugins')),
  };
  let writing = core.msrLoginWrite(writeRequest);
  if (writing.storeProbe) {
    // What the helper prints is the login it holds: captured, never shown.
    const { argv, stdin, env } = writing.storeProbe;
    const { code } = await runTool(argv, { stdin, env: { ...process.env, ...env }, silent: true, startFailure: true });
    writing = core.msrLoginWrite({ ...writeRequest, storeProbe: { exitCode: code } });
  }
  if (writing.contents !== null) writePrivateFile(writing.configFile, writing.contents);
  if (writing.dockerLogin) {
    const { argv, stdin, env } = writing.dockerLogin;
    const { code } = await runTool(argv, { stdin, env: { ...process.env, ...env } });
    if (code !== 0) throw new Error(`docker login to ${plan.registry} failed (exit code ${code}).`);
    if (fs.existsSync(writing.configFile)) fs.chmodSync(writing.configFile, 0o600);
  }
  for (const warning of writing.warnings) tl.warning(warning);
  for (const [name, value] of Object.entries(writing.variables)) tl.setVariable(name, value);
  for (const [name, value] of Object.entries(writing.taskVariables)) tl.setTaskVariable(name, value);
  setOutputs(writing.outputs);
  uploadSummary(writing.summary);
  log(`Logged in to ${plan.registry} as ${plan.username}; DOCKER_CONFIG=${directory}`);
}

async function postJob() {
  const request = { agentTempDirectory: realTempDirectory(), saved: tl.getTaskVariable(STATE) ?? null };
  let answer = core.msrLoginPostJob({ ...request, phase: 'resolve' });
  if (answer.kind === 'resolve') {
    request.resolvedDirectory = realPathOrNull(answer.directory);
    answer = core.msrLoginPostJob({ ...request, phase: 'read' });
  }
  if (answer.kind === 'read') {
    if (answer.notice) log(answer.notice);
    if (answer.dockerLogout) {
      const { argv, env } = answer.dockerLogout;
      try {
        const { code } = await runTool(argv, { env: { ...process.env, ...env } });
        if (code !== 0) tl.warning(`docker logout exited with code ${code}.`);
      } catch (error) {
        tl.warning(error.message);
      }
    }
    answer = core.msrLoginPostJob({ ...request, phase: 'clean', existing: readFileOrNull(answer.configFile) });
  }
  if (answer.kind === 'removeDirectory') fs.rmSync(answer.path, { recursive: true, force: true });
  if (answer.kind === 'rewrite') writePrivateFile(answer.path, answer.contents);
  if (answer.message) log(answer.message);
}

startTask({ main, postJob });
