// MKE (UCP) client bundles for the tests: real keys and certificates made with
// openssl, laid out as each UCP/MKE generation lays them out, plus the hostile
// and broken archives a bundle task must refuse.
//
// API
//   makeCa(dir, { commonName })                 → ca: { dir, cert, key, certPem }
//       A test CA (EC P-256). Pass it to makeBundle and makeServerCertificate so
//       a test HTTPS server and the bundle trust each other.
//   makeServerCertificate(ca, dir)              → { cert, key } paths, for 127.0.0.1 / localhost
//   makeBundle(dir, options)                    → bundle (below)
//       options (all optional):
//         generation   '1.x' | '2.x' | '3.x' | '3.2' (default '3.2'): which files exist
//                       (1.x: `$(pwd)` env files, no kube.yml; 2.x: `$PWD`, no kube.yml;
//                       3.x: + kube.yml; 3.2: + meta.json, tls/docker/*, tls/kubernetes/*)
//         host         'ucp.example.com'; dockerHost 'tcp://<host>:443';
//         kubernetesServer 'https://<host>:6443' (the kube.yml server)
//         user         'azure-devops'; admin: true adds the admin comment paragraph
//         crlf         true: every text file with CRLF line ends (Windows-made)
//         notBefore, notAfter  Date of the client certificate (default now-1h .. now+365d);
//                       or validityDays (negative: expired that many days ago)
//         kubeconfigReferencesFiles  true: kube.yml names ca.pem/cert.pem/key.pem instead
//                       of embedding their data
//         kubeconfigJson  true: kube.yml is JSON (what `kubectl config view --raw -o json` writes)
//         ca           a makeCa() result (default: a fresh CA in dir)
//         envSh        replaces env.sh's text (e.g. with `$(touch /tmp/marker)`)
//         omit         names of files to leave out (e.g. ['env.sh'] for a bundle read from env.ps1)
//         hostile      one of HOSTILE (below): the bundle is made realistic, then spoiled
//         marker       the file a `commandSubstitution` (or `kubeconfigExec`, ...) bundle would
//                       create if executed
//       bundle: { zip (path), bytes (Buffer), dir, ca, files ({name: Buffer|string}),
//                 key (PEM text), keyBase64Lines (the key's base64 lines: must never be logged),
//                 notAfter (Date), dockerHost, kubernetesServer, user, generation, contextName }
//   HOSTILE: the hostile variants makeBundle knows (see the switch in spoil()).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import JSZip from 'jszip';
import YAML from 'yaml';

export const HOSTILE = [
  'notAZip', 'corrupt', 'zipSlip', 'absolutePath', 'driveLetter', 'symlink', 'zipBomb',
  'lyingZipBomb', 'tooLarge', 'tooManyEntries', 'commandSubstitution', 'loggingCommand', 'noEnvNoKubeconfig',
  'kubeconfigExec', 'kubeconfigAuthProvider', 'kubeconfigTokenFile', 'kubeconfigJsonFileOutside',
  'substitutionAfterOneLineIf', 'readonlySubstitution',
];

const DAY = 24 * 3600 * 1000;

function openssl(cwd, ...args) {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function makeCa(dir, { commonName = 'MKE Test Root CA' } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, 'ca.pem');
  const key = path.join(dir, 'ca-key.pem');
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650',
    '-subj', `/CN=${commonName}`, '-keyout', key, '-out', cert,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  return { dir, cert, key, certPem: fs.readFileSync(cert, 'utf8') };
}

/** `openssl ca` is the 3.0 way to choose both validity dates (x509 -days cannot go negative). */
function signWithCa(ca, dir, csr, out, { notBefore, notAfter, extensions }) {
  const work = fs.mkdtempSync(path.join(dir, '.ca-'));
  fs.writeFileSync(path.join(work, 'index.txt'), '');
  fs.writeFileSync(path.join(work, 'index.txt.attr'), 'unique_subject = no\n');
  fs.writeFileSync(path.join(work, 'serial'), `${BigInt(Date.now()).toString(16).padStart(16, '0')}\n`);
  fs.writeFileSync(path.join(work, 'ca.cnf'), `[ca]
default_ca = test
[test]
database = ${path.join(work, 'index.txt')}
new_certs_dir = ${work}
serial = ${path.join(work, 'serial')}
default_md = sha256
policy = anything
[anything]
commonName = supplied
organizationalUnitName = optional
[ext]
${extensions}
`);
  const stamp = (date) => date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  openssl(work, 'ca', '-batch', '-notext', '-config', path.join(work, 'ca.cnf'), '-cert', ca.cert, '-keyfile', ca.key,
    '-in', csr, '-out', out, '-startdate', stamp(notBefore), '-enddate', stamp(notAfter), '-extensions', 'ext');
  fs.rmSync(work, { recursive: true, force: true });
}

export function makeServerCertificate(ca, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, 'server-key.pem');
  const csr = path.join(dir, 'server.csr');
  const cert = path.join(dir, 'server.pem');
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1',
    '-keyout', key, '-out', csr);
  signWithCa(ca, dir, csr, cert, {
    notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 30 * DAY),
    extensions: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE',
  });
  return { cert, key };
}

const b64 = (text) => Buffer.from(text).toString('base64');

function envSh({ generation, dockerHost, kubernetesServer, contextName, user, admin }) {
  const pwd = generation === '1.x' ? '$(pwd)' : '$PWD';
  const lines = ['export DOCKER_TLS_VERIFY=1'];
  if (generation !== '1.x') lines.push('export COMPOSE_TLS_VERSION=TLSv1_2');
  lines.push(`export DOCKER_CERT_PATH=${pwd}`, `export DOCKER_HOST=${dockerHost}`, '');
  if (generation === '3.x' || generation === '3.2') {
    lines.push('if kubectl >/dev/null 2>&1; then',
      '    unset KUBECONFIG',
      `    kubectl config set-cluster ${contextName} --server ${kubernetesServer} --certificate-authority "$PWD/ca.pem" --embed-certs`,
      `    kubectl config set-credentials ${contextName} --client-key "$PWD/key.pem" --client-certificate "$PWD/cert.pem" --embed-certs`,
      `    kubectl config set-context ${contextName} --user ${contextName} --cluster ${contextName}`,
      'fi',
      'export KUBECONFIG=$PWD/kube.yml', '');
  }
  if (admin) {
    lines.push('#', `# Bundle for user ${user}`, '# UCP Instance ID saglbp0vlmk49n0clpopam8nv', '#',
      '# This admin cert will also work directly against Swarm and the individual',
      '# engine proxies for troubleshooting.  After sourcing this env file, use',
      '# "docker info" to discover the location of Swarm managers and engines.',
      '# and use the --host option to override $DOCKER_HOST', '#');
  } else {
    lines.push('#', `# Bundle for user ${user}`, '# UCP Instance ID saglbp0vlmk49n0clpopam8nv', '#');
  }
  lines.push('# Run this command from within this directory to configure your shell:', '# eval "$(<env.sh)"', '');
  return lines.join('\n');
}

function envCmd({ generation, dockerHost, kubernetesServer, contextName, user }) {
  const lines = ['@echo off', 'set DOCKER_TLS_VERIFY=1'];
  if (generation !== '1.x') lines.push('set COMPOSE_TLS_VERSION=TLSv1_2');
  lines.push('set DOCKER_CERT_PATH=%~dp0', `set DOCKER_HOST=${dockerHost}`, '');
  if (generation === '3.x' || generation === '3.2') {
    lines.push('kubectl >nul 2>&1', 'if %ERRORLEVEL% == 0 (', '    set KUBECONFIG=',
      `    kubectl config set-cluster ${contextName} --server ${kubernetesServer} --certificate-authority "%~dp0ca.pem" --embed-certs`,
      `    kubectl config set-credentials ${contextName} --client-key "%~dp0key.pem" --client-certificate "%~dp0cert.pem" --embed-certs`,
      `    kubectl config set-context ${contextName} --user ${contextName} --cluster ${contextName}`,
      ')', 'set KUBECONFIG=%~dp0kube.yml', '');
  }
  lines.push('REM', `REM Bundle for user ${user}`, 'REM UCP Instance ID saglbp0vlmk49n0clpopam8nv', 'REM',
    'REM Run this command from within this directory to configure your shell:', 'REM .\\env.cmd', '');
  return lines.join('\n');
}

function envPs1({ generation, dockerHost, kubernetesServer, contextName, user }) {
  // UCP 1.x/2.x wrapped the path idiom in $( ); 3.x writes it bare.
  const here = generation === '1.x' || generation === '2.x'
    ? '$(Split-Path $script:MyInvocation.MyCommand.Path)' : 'Split-Path $script:MyInvocation.MyCommand.Path';
  const lines = [generation === '1.x' ? '$Env:DOCKER_TLS_VERIFY = "1"' : '$Env:DOCKER_TLS_VERIFY = 1'];
  if (generation !== '1.x') lines.push('$Env:COMPOSE_TLS_VERSION = "TLSv1_2"');
  lines.push(`$Env:DOCKER_CERT_PATH = ${here}`, `$Env:DOCKER_HOST = "${dockerHost}"`, '');
  if (generation === '3.x' || generation === '3.2') {
    lines.push('$d = Split-Path $script:MyInvocation.MyCommand.Path',
      'if (Get-Command kubectl -ErrorAction Ignore) {',
      '        $Env:KUBECONFIG = $null',
      `        kubectl config set-cluster ${contextName} --server ${kubernetesServer} --certificate-authority "$(Join-Path $d ca.pem)" --embed-certs`,
      `        kubectl config set-credentials ${contextName} --client-key "$(Join-Path $d key.pem)" --client-certificate "$(Join-Path $d cert.pem)" --embed-certs`,
      `        kubectl config set-context ${contextName} --user ${contextName} --cluster ${contextName}`,
      '}', '$Env:KUBECONFIG = Join-Path $d kube.yml', '');
  }
  lines.push('#', `# Bundle for user ${user}`, '# UCP Instance ID saglbp0vlmk49n0clpopam8nv', '#',
    '# Run this command from within this directory to configure your shell:', '# Import-Module .\\env.ps1', '');
  return lines.join('\n');
}

/** kube.yml as JSON, indented like kubectl's `-o json` (four spaces); keys in kube.yml's order. */
function kubeJson(facts) {
  return `${JSON.stringify(YAML.parse(kubeYml(facts)), null, 4)}\n`;
}

function kubeYml({ kubernetesServer, contextName, caPem, certPem, keyPem, referencesFiles }) {
  const cluster = referencesFiles ? '    certificate-authority: ca.pem' : `    certificate-authority-data: ${b64(caPem)}`;
  const credentials = referencesFiles
    ? ['    client-certificate: cert.pem', '    client-key: key.pem']
    : [`    client-certificate-data: ${b64(certPem)}`, `    client-key-data: ${b64(keyPem)}`];
  return ['apiVersion: v1', 'clusters:', '- cluster:', cluster, `    server: ${kubernetesServer}`,
    `  name: ${contextName}`, 'contexts:', '- context:', `    cluster: ${contextName}`, `    user: ${contextName}`,
    `  name: ${contextName}`, `current-context: ${contextName}`, 'kind: Config', 'preferences: {}', 'users:',
    `- name: ${contextName}`, '  user:', ...credentials, ''].join('\n');
}

/** Makes a client bundle zip in `dir` (see the API at the top). */
export async function makeBundle(dir, options = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const generation = options.generation ?? '3.2';
  const host = options.host ?? 'ucp.example.com';
  const user = options.user ?? 'azure-devops';
  const dockerHost = options.dockerHost ?? `tcp://${host}:443`;
  const kubernetesServer = options.kubernetesServer ?? `https://${host}:6443`;
  const contextName = `ucp_${new URL(kubernetesServer).host}_${user}`;
  const ca = options.ca ?? makeCa(path.join(dir, 'ca'));
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - (options.validityDays < 0 ? 400 * DAY : 3600_000));
  const notAfter = options.notAfter ?? new Date(now + (options.validityDays ?? 365) * DAY);

  const work = fs.mkdtempSync(path.join(dir, 'client-'));
  const keyFile = path.join(work, 'key.pem');
  fs.writeFileSync(keyFile, openssl(work, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout'));
  const csr = path.join(work, 'client.csr');
  openssl(work, 'req', '-new', '-key', keyFile, '-subj', `/CN=${user}/OU=ucp`, '-out', csr);
  const certFile = path.join(work, 'cert.pem');
  signWithCa(ca, dir, csr, certFile, {
    notBefore, notAfter,
    extensions: 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth',
  });
  const keyPem = fs.readFileSync(keyFile, 'utf8');
  const certPem = fs.readFileSync(certFile, 'utf8');
  const pubPem = openssl(work, 'pkey', '-in', keyFile, '-pubout').toString('utf8');
  fs.rmSync(work, { recursive: true, force: true });

  const facts = { generation, dockerHost, kubernetesServer, contextName, user, admin: options.admin };
  const files = {
    'ca.pem': ca.certPem, 'cert.pem': certPem, 'key.pem': keyPem, 'cert.pub': pubPem,
    'env.sh': options.envSh ?? envSh(facts), 'env.cmd': envCmd(facts), 'env.ps1': envPs1(facts),
  };
  if (generation === '3.x' || generation === '3.2') {
    files['kube.yml'] = (options.kubeconfigJson ? kubeJson : kubeYml)({ kubernetesServer, contextName, caPem: ca.certPem,
      certPem, keyPem, referencesFiles: options.kubeconfigReferencesFiles });
  }
  if (generation === '3.2') {
    files['meta.json'] = JSON.stringify({
      Name: contextName, Metadata: { Description: `Docker UCP bundle for ${user}`, StackOrchestrator: 'all' },
      Endpoints: {
        docker: { Host: dockerHost, SkipTLSVerify: false },
        kubernetes: { Host: kubernetesServer, SkipTLSVerify: false, DefaultNamespace: 'default' },
      },
    });
    for (const endpoint of ['docker', 'kubernetes']) {
      files[`tls/${endpoint}/ca.pem`] = ca.certPem;
      files[`tls/${endpoint}/cert.pem`] = certPem;
      files[`tls/${endpoint}/key.pem`] = keyPem;
    }
  }
  for (const name of options.omit ?? []) delete files[name];
  if (options.crlf) {
    for (const [name, text] of Object.entries(files)) files[name] = text.replace(/\r?\n/g, '\r\n');
  }

  const bundle = {
    dir, ca, files, generation, dockerHost, kubernetesServer, user, contextName, notAfter,
    key: keyPem,
    keyBase64Lines: keyPem.split('\n').filter((l) => l && !l.startsWith('-----')),
  };
  bundle.bytes = await spoil(files, options, bundle);
  bundle.zip = path.join(dir, `ucp-bundle-${user}.zip`);
  fs.writeFileSync(bundle.zip, bundle.bytes);
  return bundle;
}

async function zipOf(files, { symlinks = {}, level = 6 } = {}) {
  const zip = new JSZip();
  for (const [name, content] of Object.entries(files)) {
    // Folder entries for tls/ as MKE writes them; none for the hostile names, so the refusal names them.
    zip.file(name, content, { unixPermissions: name.endsWith('key.pem') ? 0o600 : 0o644, createFolders: name.startsWith('tls/') });
  }
  for (const [name, target] of Object.entries(symlinks)) zip.file(name, target, { unixPermissions: 0o120777 });
  return zip.generateAsync({
    type: 'nodebuffer', platform: 'UNIX', compression: 'DEFLATE', compressionOptions: { level },
  });
}

/** Rewrites the uncompressed-size fields (local and central header) of the
 *  entry `name` to `size`: the archive then lies about what it inflates to. */
function lieAboutSize(bytes, name, size) {
  const out = Buffer.from(bytes);
  const end = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let entry = out.readUInt32LE(end + 16);
  for (let i = 0; i < out.readUInt16LE(end + 10); i++) {
    const nameLength = out.readUInt16LE(entry + 28);
    if (out.toString('utf8', entry + 46, entry + 46 + nameLength) === name) {
      out.writeUInt32LE(size, entry + 24);
      out.writeUInt32LE(size, out.readUInt32LE(entry + 42) + 22);
    }
    entry += 46 + nameLength + out.readUInt16LE(entry + 30) + out.readUInt16LE(entry + 32);
  }
  return out;
}

async function spoil(files, options, bundle) {
  const marker = options.marker ?? '/tmp/mke-bundle-marker';
  switch (options.hostile) {
    case undefined:
      return zipOf(files);
    case 'notAZip':
      return Buffer.from('This is not a client bundle: it is a text file named .zip\n');
    case 'corrupt':
      return (await zipOf(files)).subarray(0, 300);
    case 'zipSlip':
      return zipOf({ ...files, '../escaped.txt': 'outside' });
    case 'absolutePath':
      return zipOf({ ...files, '/tmp/absolute.txt': 'outside' });
    case 'driveLetter':
      return zipOf({ ...files, 'C:\\Windows\\evil.txt': 'outside' });
    case 'symlink':
      return zipOf(files, { symlinks: { 'ca-link.pem': '/etc/passwd' } });
    case 'zipBomb':
      // Ratio ~1000: 2 MiB of zeros in ~2 KiB.
      return zipOf({ ...files, 'padding.bin': Buffer.alloc(2 * 1024 * 1024) }, { level: 9 });
    case 'lyingZipBomb':
      // 40 MiB of zeros whose headers claim 1 KiB: only counting while inflating catches it.
      const zip = await zipOf({ ...files, 'padding.bin': Buffer.alloc(40 * 1024 * 1024) }, { level: 9 });
      return lieAboutSize(zip, 'padding.bin', 1024);
    case 'tooLarge': {
      // 33 MiB that does not compress (ratio ~1), so only the total size is over.
      const big = {};
      for (let i = 0; i < 3; i++) big[`blob-${i}.bin`] = pseudoRandom(11 * 1024 * 1024, i);
      return zipOf({ ...files, ...big }, { level: 1 });
    }
    case 'tooManyEntries': {
      const many = {};
      for (let i = 0; i < 300; i++) many[`extra/file-${i}.txt`] = `${i}\n`;
      return zipOf({ ...files, ...many });
    }
    case 'commandSubstitution':
      bundle.marker = marker;
      return zipOf({ ...files, 'env.sh': files['env.sh'].replace(/export DOCKER_HOST=.*/, `export DOCKER_HOST=$(touch ${marker})`) });
    case 'loggingCommand':
      // A value that would put a directory on the agent's PATH if it reached the log as it is.
      return zipOf({ ...files, 'env.sh': files['env.sh'].replace(/export DOCKER_HOST=.*/, "export DOCKER_HOST='##vso[task.prependpath]/tmp/evil'") });
    case 'kubeconfigExec':
      // A credential plugin: kubectl (and helm) would run it for every request.
      bundle.marker = marker;
      return zipOf({ ...files, 'kube.yml': files['kube.yml'].replace(/^  user:\n/m, ['  user:', '    exec:',
        '      apiVersion: client.authentication.k8s.io/v1', '      command: sh', `      args: ["-c", "touch ${marker}"]`,
        '      interactiveMode: Never', ''].join('\n')) });
    case 'kubeconfigAuthProvider':
      bundle.marker = marker;
      return zipOf({ ...files, 'kube.yml': files['kube.yml'].replace(/^  user:\n/m, ['  user:', '    auth-provider:',
        '      name: gcp', '      config:', '        cmd-path: /bin/sh', `        cmd-args: -c 'touch ${marker}'`, ''].join('\n')) });
    case 'kubeconfigTokenFile':
      // kubectl would send the file's contents to the (bundle's) server as a bearer token.
      return zipOf({ ...files, 'kube.yml': files['kube.yml'].replace(/^  user:\n/m, '  user:\n    tokenFile: /etc/hostname\n') });
    case 'kubeconfigJsonFileOutside': {
      const kube = JSON.parse(kubeJson({ ...bundle, caPem: files['ca.pem'], certPem: files['cert.pem'], keyPem: files['key.pem'] }));
      kube.users[0].user = { 'client-certificate': 'cert.pem', 'client-key': '/etc/ssl/private/agent-key.pem' };
      return zipOf({ ...files, 'kube.yml': JSON.stringify(kube) });
    }
    case 'substitutionAfterOneLineIf':
      bundle.marker = marker;
      return zipOf({ ...files, 'env.sh': files['env.sh'].replace(/export KUBECONFIG=.*/,
        `if [ -n "$PWD" ]; then echo ready; fi\nexport KUBECONFIG=$(touch ${marker})`) });
    case 'readonlySubstitution':
      bundle.marker = marker;
      return zipOf({ ...files, 'env.sh': files['env.sh'].replace(/export DOCKER_HOST=.*/, `readonly DOCKER_HOST=$(touch ${marker})`) });
    case 'noEnvNoKubeconfig': {
      const rest = { ...files };
      for (const name of ['env.sh', 'env.cmd', 'env.ps1', 'kube.yml']) delete rest[name];
      return zipOf(rest);
    }
    default:
      throw new Error(`unknown hostile bundle ${options.hostile}; known: ${HOSTILE.join(', ')}`);
  }
}

function pseudoRandom(length, seed) {
  const out = Buffer.alloc(length);
  let x = (seed + 1) * 2654435761 >>> 0;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out.writeUInt32LE(x, Math.min(i, length - 4));
  }
  return out;
}
