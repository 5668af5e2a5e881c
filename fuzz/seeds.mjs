#!/usr/bin/env node
// Regenerates the seed corpora of the fuzz targets in fuzz/seeds/<target>/
// from the tests' realistic inputs: client bundles of each UCP/MKE generation
// as tests/rig/bundles.mjs lays them out (with a fake private key, so no key
// material is committed), a few hostile archives, and the Helm, registry,
// config.json and template texts the unit tests use. The template,
// dockerfile and build_push_plan seeds are kept by hand. Needs openssl.
//   node fuzz/seeds.mjs
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import YAML from 'yaml';
import { makeBundle } from '../tests/rig/bundles.mjs';

const seedsDir = path.join(import.meta.dirname, 'seeds');
const FAKE_KEY = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFakeKeyMaterialForFuzzSeedsOnlyLineOne00000000000000oAoGCCqGSM49\n'
  + 'AwEHoUQDQgAEFakeKeyMaterialForFuzzSeedsOnlyLineTwo0000000000000000000000\n-----END EC PRIVATE KEY-----\n';

function write(target, name, contents) {
  fs.mkdirSync(path.join(seedsDir, target), { recursive: true });
  fs.writeFileSync(path.join(seedsDir, target, name), contents);
}

async function zipOf(files, { symlinks = {} } = {}) {
  const zip = new JSZip();
  for (const [name, content] of Object.entries(files)) {
    zip.file(name, content, { unixPermissions: name.endsWith('key.pem') ? 0o600 : 0o644, createFolders: name.startsWith('tls/') });
  }
  for (const [name, target] of Object.entries(symlinks)) zip.file(name, target, { unixPermissions: 0o120777 });
  return zip.generateAsync({ type: 'nodebuffer', platform: 'UNIX', compression: 'DEFLATE', compressionOptions: { level: 9 } });
}

/** The bundle's files with its real key replaced by FAKE_KEY, everywhere it appears. */
function withFakeKey(bundle) {
  const b64 = (t) => Buffer.from(t).toString('base64');
  const files = {};
  for (const [name, text] of Object.entries(bundle.files)) {
    const crlf = (t) => t.replace(/\n/g, '\r\n');
    files[name] = String(text).replaceAll(bundle.key, FAKE_KEY).replaceAll(crlf(bundle.key), crlf(FAKE_KEY))
      .replaceAll(b64(bundle.key), b64(FAKE_KEY));
  }
  return files;
}

/** The bundle_files target's input: NUL-separated `name\ncontents` records. */
const records = (files) => Object.entries(files).map(([name, text]) => `${name}\n${text}`).join('\0');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-seeds-'));
try {
  for (const target of fs.readdirSync(seedsDir)) {
    if (!['template', 'dockerfile', 'build_push_plan'].includes(target)) fs.rmSync(path.join(seedsDir, target), { recursive: true });
  }
  const variants = {
    'mke-3.2': { generation: '3.2', admin: true },
    'ucp-3.0': { generation: '3.x', kubeconfigReferencesFiles: true },
    'ucp-2-crlf': { generation: '2.x', crlf: true },
    'ucp-1': { generation: '1.x' },
  };
  const bundles = {};
  for (const [name, options] of Object.entries(variants)) {
    bundles[name] = withFakeKey(await makeBundle(path.join(work, name), options));
  }
  const mke = bundles['mke-3.2'];
  for (const [name, files] of Object.entries(bundles)) {
    write('bundle', `${name}.zip`, await zipOf(files));
    write('bundle_files', name, records(files));
    for (const env of ['env.sh', 'env.cmd', 'env.ps1']) write('env_files', `${name}-${env}`, files[env]);
    if (files['kube.yml']) write('kubeconfig', `${name}-kube.yml`, files['kube.yml']);
    if (files['meta.json']) write('meta_json', `${name}.json`, files['meta.json']);
  }
  const ucp1 = bundles['ucp-1'];
  write('bundle', 'zip-slip.zip', await zipOf({ ...ucp1, '../escaped.txt': 'outside' }));
  write('bundle', 'symlink.zip', await zipOf(ucp1, { symlinks: { 'ca-link.pem': '/etc/passwd' } }));
  write('bundle', 'zip-bomb.zip', await zipOf({ ...ucp1, 'padding.bin': Buffer.alloc(2 * 1024 * 1024) }));
  write('bundle', 'in-a-folder.zip', await zipOf(Object.fromEntries(Object.entries(ucp1).map(([n, t]) => [`ucp-bundle-admin/${n}`, t]))));
  write('env_files', 'command-substitution.sh', ucp1['env.sh'].replace(/export DOCKER_HOST=.*/, 'export DOCKER_HOST=$(touch /tmp/marker)'));
  // kube.yml asking kubectl to run a command or send a file, in each style, and as JSON.
  const kube = mke['kube.yml'];
  const withUser = (lines) => kube.replace(/^  user:\n/m, `  user:\n${lines}`);
  write('kubeconfig', 'exec.yml', withUser('    exec:\n      command: sh\n      args: ["-c", "touch /tmp/marker"]\n'));
  write('kubeconfig', 'token-file.yml', withUser('    tokenFile: /etc/hostname\n'));
  write('kubeconfig', 'flow-escaped.yml', 'users: [{name: u, user: {client-key: /etc/ssl/private/agent.pem, "\\x65xec": {command: sh}}}]\n');
  write('kubeconfig', 'kubectl-json.json', `${JSON.stringify(YAML.parse(kube), null, 4)}\n`);
  write('bundle', 'kube-exec.zip', await zipOf({ ...mke, 'kube.yml': withUser('    exec:\n      command: sh\n') }));
  write('env_files', 'one-line-if.sh', mke['env.sh'].replace(/export KUBECONFIG=.*/, 'if true; then :; fi\nexport KUBECONFIG=$(touch /tmp/marker)'));
  write('env_files', 'readonly-substitution.sh', mke['env.sh'].replace(/export DOCKER_HOST=.*/, 'readonly DOCKER_HOST=$(touch /tmp/marker)'));
  write('meta_json', 'no-endpoints.json', '{"Name":"x","Endpoints":{"docker":{"Host":""},"kubernetes":[]}}');

  write('certificate', 'cert.pem', mke['cert.pem']);
  write('certificate', 'chain.pem', mke['cert.pem'] + mke['ca.pem']);
  write('certificate', 'cert.der', new crypto.X509Certificate(mke['cert.pem']).raw);

  const challenges = {
    bearer: 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:web/app:pull,push"',
    basic: 'Basic realm="Registry Realm"',
    several: 'Negotiate, Basic realm=simple , Bearer  REALM = "https://a/t?x=1" ,service="a \\"q\\" b", NTLM abc==, Basic realm="second"',
  };
  for (const [name, header] of Object.entries(challenges)) write('www_authenticate', name, header);
  const steps = (...answers) => answers.map(([status, header, body]) => `${status}\n${header}\n${body}`).join('\0');
  write('registry_verify', 'token-protocol', steps([401, challenges.bearer, ''], [200, '', '{"token":"abc.def","expires_in":300}'], [200, '', '{}']));
  write('registry_verify', 'oauth-token', steps([401, challenges.bearer, ''], [200, '', '{"access_token":"xyz"}'], [401, '', '']));
  write('registry_verify', 'basic', steps([401, challenges.several, ''], [200, '', '']));
  write('registry_verify', 'open-registry', steps([200, '', '']));
  write('registry_verify', 'untrusted-certificate', steps(['-', 'SELF_SIGNED_CERT_IN_CHAIN', '']));
  write('registry_verify', 'redirect', steps([401, 'Bearer realm="http://auth.example.com/token"', ''], [302, '', '']));

  write('helm', 'helm2-client', 'Client: &version.Version{SemVer:"v2.16.1", GitCommit:"bbdfe5e7803a12bbdf97e94cd847859890cf4050", GitTreeState:"clean"}\n');
  write('helm', 'helm3-short', '90s\nv3.14.0+g3fc9f4b\n');
  write('helm', 'helm3-build-info', '1h30m\nversion.BuildInfo{Version:"v3.14.0", GitCommit:"3fc9f4b2638e76f26739cd77c7017139be81d0ea", GitTreeState:"clean", GoVersion:"go1.21.5"}');
  write('helm', 'helm4-rc', '1.5m500ms\nv4.0.0-rc.1+g99cd196\n');
  write('helm', 'status-3', '{"name":"web","info":{"status":"deployed","first_deployed":"2026-12-03T10:00:00Z"},"version":7,"namespace":"default"}');
  write('helm', 'history-2', '[{"revision":2,"updated":"x","status":"SUPERSEDED","chart":"web-0.1.0"},{"revision":3,"status":"PENDING_UPGRADE"}]');

  write('image_reference', 'msr', 'msr.example.com/web/techorama\n{{sha}}, latest\n{{branch}}\nv{{major}}.{{minor}}\n{{version}}');
  write('image_reference', 'ipv6-port', '[::1]:5000/team__x/a.b_c--d\nrefs/tags/v1.4.2-rc.1+b5\n{{tag}}\n{{date}}-{{build_number}}');
  write('image_reference', 'hub', 'library/alpine\nrefs/pull/12/merge\n{{branch}}-{{sha}}');

  write('shell_words', 'helm-arguments', `--debug --description 'first deploy' --set-json "a={\\"b\\": 1}" a\\ b c\\\\d`);
  write('shell_words', 'build-arguments', `--network=host --label "x=a b"'c d' '' "" k= --add-host a:1.2.3.4 \\\n--pull`);

  const config = '{"auths":{"a.io":{"auth":"YTpi"},"msr.example.com":{"auth":"b2xk"}},"credHelpers":{"gcr.io":"gcloud"},'
    + '"credsStore":"desktop","proxies":{"default":{"httpProxy":"http://p:3128"}},"HttpHeaders":{"User-Agent":"x"}}';
  write('docker_config', 'merge', `msr.example.com\n${config}`);
  write('docker_config', 'new-registry', `msr.example.com:8443\n${config}`);
  write('docker_config', 'saved-state', 'msr.example.com\n{"directory":"/w/_temp/msr-login-1","created":false,"registry":"msr.example.com","loginMethod":"docker"}');
  write('docker_config', 'saved-outside', 'msr.example.com\n{"directory":"/w/_temp/../etc","created":true,"registry":"msr.example.com","loginMethod":"config"}');
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
