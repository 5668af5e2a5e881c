// The one place a task shim unpacks an MKE client bundle (MkeClientBundle and
// MkeHelmDeploy both call it).
//
// extractBundle(workspace, zipPath, { keep, inputName, expiryWarningDays })
//   zipPath            the bundle zip (a filePath input; null when the input is empty)
//   keep               keep the directory after a successful step (MkeClientBundle: its
//                      post-job step removes it); otherwise the workspace removes it when
//                      the step ends
//   inputName          the input named in error messages ('bundle')
//   expiryWarningDays  warn when the client certificate expires within this many days
// Returns { directory, kubeconfig, dockerHost, kubernetesServer, certificateNotAfter,
//           generation, variables: [{ name, value }] } — kubeconfig, dockerHost and
//           kubernetesServer are null when the bundle has none; `variables` are the
//           DOCKER_* / COMPOSE_TLS_VERSION / KUBECONFIG values pointing into `directory`.
// Throws one sentence naming the input (hostile or broken archive, expired certificate,
// unreadable file) before anything is written; the workspace then removes the directory.
// The core (src/bundle.rs) decides every file and mode, and whether the path may be read
// at all (from its stat: size, regular file); this only stats and reads the zip and
// writes what it is told into the fresh 0700 workspace directory, after registering the
// bundle's secrets (private keys, kubeconfig tokens and passwords). It prints nothing but the expiry warning.
//
// removeBundleDirectory(recorded) — for post-job steps: removes a directory recorded in a
//   task variable, only when the core agrees it is strictly inside Agent.TempDirectory
//   (real paths compared); does nothing when it is already gone.
import fs from 'node:fs';
import path from 'node:path';
import { agentTempDirectory, core, log, registerSecret, tl } from './runtime.mjs';

export function extractBundle(workspace, zipPath, { keep = false, inputName = 'bundle', expiryWarningDays = 14 } = {}) {
  const cannotRead = (error) => new Error(`Input '${inputName}': cannot read ${zipPath} (${error.code || error.message}).`);
  const request = {
    inputName, directory: '', expiryWarningDays, nowEpochSeconds: Math.floor(Date.now() / 1000),
    given: Boolean(zipPath), size: 0, regularFile: false,
  };
  if (zipPath) {
    try {
      const stat = fs.statSync(zipPath);
      request.size = stat.size;
      request.regularFile = stat.isFile();
    } catch (error) {
      throw cannotRead(error);
    }
  }
  // The core judges the stat first: a folder, a device or a huge file is never read.
  core.admitBundle(request); // also refuses an empty input
  let zip;
  try {
    zip = fs.readFileSync(zipPath);
  } catch (error) {
    throw cannotRead(error);
  }
  const directory = workspace.directory('mke-bundle', { keep });
  const plan = core.planBundle({ ...request, directory }, zip);
  for (const secret of plan.secrets) registerSecret(secret);
  const writing = (entry, write) => {
    try {
      write(path.join(directory, ...entry.split('/')));
    } catch (error) {
      throw new Error(`Input '${inputName}': cannot write the bundle's ${entry} on this agent (${error.code || error.message}).`);
    }
  };
  for (const dir of plan.directories) writing(dir, (target) => fs.mkdirSync(target, { mode: 0o700 }));
  for (const file of plan.files) {
    // 'wx': never follow or replace something already there.
    writing(file.path, (target) => fs.writeFileSync(target, file.contents, {
      mode: file.mode, flag: 'wx',
    }));
  }
  for (const warning of plan.warnings) tl.warning(warning);
  return {
    directory,
    kubeconfig: plan.kubeconfig ?? null,
    dockerHost: plan.dockerHost ?? null,
    kubernetesServer: plan.kubernetesServer ?? null,
    certificateNotAfter: plan.certificateNotAfter,
    generation: plan.generation,
    variables: plan.variables,
  };
}

export function removeBundleDirectory(recorded) {
  if (!recorded || !fs.existsSync(recorded)) return;
  const directory = fs.realpathSync(recorded);
  if (!core.removableInsideTemp(fs.realpathSync(agentTempDirectory()), directory)) {
    tl.warning(`Post-job clean-up: ${recorded} is not inside Agent.TempDirectory; it is left alone.`);
    return;
  }
  fs.rmSync(directory, { recursive: true, force: true });
  log(`Removed the extracted client bundle ${directory}.`);
}
