// A Docker registry token service for tests (the Bearer flow): the real
// registry (distribution 2.8, `auth: token`) sends clients here, this issues
// ES256 JWTs whose `x5c` header carries a signing certificate that is the
// registry's `rootcertbundle`, so the registry verifies them for real.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort, startRegistry } from './registry.mjs';

const SERVICE = 'test-registry';
const ISSUER = 'test-token-issuer';

/** A self-signed signing certificate: distribution checks the x5c chain
 *  against rootcertbundle and that the leaf may sign. */
function makeSigner(dir) {
  const key = path.join(dir, 'signer-key.pem');
  const cert = path.join(dir, 'signer.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '2', '-subj', '/CN=Test token signer', '-keyout', key, '-out', cert,
    '-addext', 'keyUsage=critical,digitalSignature'], { stdio: 'pipe' });
  const der = new crypto.X509Certificate(fs.readFileSync(cert)).raw.toString('base64');
  return { bundle: cert, key: crypto.createPrivateKey(fs.readFileSync(key)), x5c: der };
}

const base64url = (data) => Buffer.from(data).toString('base64url');

function signJwt(signer, claims) {
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [signer.x5c] }));
  const payload = base64url(JSON.stringify(claims));
  const signature = crypto.sign('sha256', Buffer.from(`${header}.${payload}`),
    { key: signer.key, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${base64url(signature)}`;
}

/** `repository:web/app:pull,push` → the JWT `access` entry granting it. */
function accessFor(scopes) {
  return scopes.filter(Boolean).map((scope) => {
    const [type, ...rest] = scope.split(':');
    const actions = rest.pop();
    return { type, name: rest.join(':'), actions: actions ? actions.split(',') : [] };
  });
}

function credentialsOf(request) {
  const [scheme, value] = (request.headers.authorization || '').split(' ');
  if (scheme !== 'Basic' || !value) return null;
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? null : { name: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * A registry in token-auth mode and its token service, sharing the registry's
 * TLS certificate (one CA to trust). `users` are { name: password }; users in
 * `forbidden` authenticate but get 403. Set `issuer.mode = 'garbage'` to make
 * the service answer 200 with a body that is not a token.
 * Resolves to { registry, issuer, requests, stop() }.
 */
export async function startTokenRegistry({ users = {}, forbidden = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-issuer-'));
  const signer = makeSigner(dir);
  const port = await freePort();
  const realm = `https://127.0.0.1:${port}/token`;
  const registry = await startRegistry({
    auth: `  token:\n    realm: ${realm}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${signer.bundle}\n`,
  });
  const issuer = { mode: 'tokens', realm, requests: [] };
  const server = https.createServer({
    cert: fs.readFileSync(registry.certs.cert), key: fs.readFileSync(registry.certs.key),
  }, (request, response) => {
    const url = new URL(request.url, realm);
    const user = credentialsOf(request);
    issuer.requests.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), user: user?.name ?? null });
    const answer = (status, body) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (url.pathname !== '/token') return answer(404, { errors: [{ code: 'NOT_FOUND' }] });
    if (!user || users[user.name] !== user.password) return answer(401, { errors: [{ code: 'UNAUTHORIZED' }] });
    if (forbidden.includes(user.name)) return answer(403, { errors: [{ code: 'DENIED' }] });
    if (issuer.mode === 'garbage') {
      response.writeHead(200, { 'content-type': 'text/html' });
      return response.end('<html><body>Welcome to the SSO portal</body></html>');
    }
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(signer, {
      iss: ISSUER, sub: user.name, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now,
      jti: crypto.randomUUID(), access: accessFor(url.searchParams.getAll('scope').flatMap((s) => s.split(' '))),
    });
    return answer(200, { token, access_token: token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    registry,
    issuer,
    stop() {
      server.close();
      server.closeAllConnections?.();
      registry.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
