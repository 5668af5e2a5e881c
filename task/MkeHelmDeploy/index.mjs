// MkeHelmDeploy@1: helm upgrade --install with a client bundle, a kubeconfig or
// KUBECONFIG. The core (src/mke_helm_deploy.rs, src/helm_args.rs) decides the
// credentials, every command and the outcome; this runs them and reports.
import fs from 'node:fs';
import path from 'node:path';
import {
  startTask, readInputs, buildInfo, runTool, setOutputs, uploadSummary, log, tl, core,
} from '../common/runtime.mjs';
import { extractBundle, removeBundleDirectory } from '../common/bundle.mjs';

// Where the extracted bundle lives, for the post-job step of a cancelled job.
const BUNDLE_DIRECTORY = 'MkeHelmDeploy.bundleDirectory';

async function main(workspace) {
  const inputs = readInputs();
  const info = buildInfo();
  const prepared = core.helmPrepare({
    inputs, buildInfo: info, kubeconfigVariable: tl.getVariable('KUBECONFIG') ?? null, pathListSeparator: path.delimiter,
  });
  prepared.warnings.forEach((w) => tl.warning(w));
  const { source, path: credentialsPath } = prepared.credentials;

  // `helm version` reads no credentials: it runs while the bundle is extracted.
  const probing = (async () => {
    let answer;
    for (const argv of prepared.versionProbes) {
      answer = await runTool(argv, { silent: true, startFailure: true });
      if (answer.code === 0 || answer.startFailure) break;
    }
    return answer;
  })();
  probing.catch(() => {}); // awaited below, unless the extraction fails first

  let kubeconfig = credentialsPath;
  if (source === 'bundle') {
    const bundle = extractBundle(workspace, credentialsPath, { keep: false, inputName: 'bundle' });
    tl.setTaskVariable(BUNDLE_DIRECTORY, bundle.directory);
    kubeconfig = bundle.kubeconfig;
  }
  const version = await probing;
  const plan = core.helmPlan({
    inputs, buildInfo: info, source, kubeconfig,
    kubeconfigExists: kubeconfig !== null && fs.existsSync(kubeconfig),
    versionExitCode: version.code ?? -1, versionStartFailure: version.startFailure ?? null,
    versionStdout: version.stdout, versionStderr: version.stderr,
  });
  plan.warnings.forEach((w) => tl.warning(w));
  log(`Helm ${plan.helm.version}`);

  const upgrade = await runTool(plan.upgradeArgv);
  const status = await runTool(plan.statusArgv, { quiet: true });
  const outcome = core.helmOutcome({
    inputs, buildInfo: info, source, helm: plan.helm,
    upgradeExitCode: upgrade.code, statusExitCode: status.code, statusStdout: status.stdout,
  });
  outcome.warnings.forEach((w) => tl.warning(w));
  if (outcome.outputs) setOutputs(outcome.outputs);
  uploadSummary(outcome.summary);
  if (outcome.failure) throw new Error(outcome.failure);
}

/** After a cancelled job the step's own clean-up never ran: remove the bundle if it is still there. */
async function postJob() {
  removeBundleDirectory(tl.getTaskVariable(BUNDLE_DIRECTORY));
}

startTask({ main, postJob });
