// A real registry (the docker-registry package: distribution 2.8) on 127.0.0.1
// with TLS from a test CA and htpasswd users, for login, push and inspect tests.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A name that never resolves: only a test proxy that maps it reaches the registry. */
export const PROXY_ONLY_HOST = 'msr.proxy-only.test';

/** A test CA and a server certificate for 127.0.0.1, localhost and PROXY_ONLY_HOST, made with openssl. */
export function makeCertificates(dir, { commonName = '127.0.0.1' } = {}) {
  const file = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=Test CA', '-keyout', file('ca-key.pem'), '-out', file('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${commonName}`,
    '-keyout', file('server-key.pem'), '-out', file('server.csr'));
  fs.writeFileSync(file('server.ext'),
    `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${PROXY_ONLY_HOST}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'),
    '-CAcreateserial', '-days', '2', '-out', file('server.pem'), '-extfile', file('server.ext'));
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server-key.pem') };
}

function probe(port, ca) {
  return new Promise((resolve) => {
    const request = https.get({ host: '127.0.0.1', port, path: '/v2/', ca: fs.readFileSync(ca), timeout: 1000 },
      (response) => { response.resume(); resolve(response.statusCode); });
    request.on('error', () => resolve(null));
    request.on('timeout', () => { request.destroy(); resolve(null); });
  });
}

/**
 * Starts a registry. `users` are htpasswd users ({ name: password }); `auth`
 * may replace the auth section (for example a token configuration).
 * Resolves to { host, port, ca, caPem, dir, stop() }.
 */
export async function startRegistry({ users = {}, auth } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-'));
  const certs = makeCertificates(dir);
  const htpasswd = path.join(dir, 'htpasswd');
  fs.writeFileSync(htpasswd, Object.entries(users)
    .map(([name, password]) => execFileSync('htpasswd', ['-Bbn', name, password], { encoding: 'utf8' }).trim())
    .join('\n') + '\n');
  const port = await freePort();
  const authSection = auth ?? `  htpasswd:\n    realm: test-registry\n    path: ${htpasswd}\n`;
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${path.join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: test-secret
  tls:
    certificate: ${certs.cert}
    key: ${certs.key}
auth:
${authSection}`);
  const logFile = path.join(dir, 'registry.log');
  const log = fs.openSync(logFile, 'a');
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
  let exited = false;
  child.on('exit', () => { exited = true; });
  for (let attempt = 0; attempt < 100 && !exited; attempt++) {
    if (await probe(port, certs.ca)) {
      return {
        host: `127.0.0.1:${port}`,
        port,
        ca: certs.ca,
        caPem: fs.readFileSync(certs.ca, 'utf8'),
        dir,
        certs,
        stop() {
          child.kill();
          fs.closeSync(log);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`the registry did not start:\n${fs.readFileSync(logFile, 'utf8')}`);
}
