// MkeClientBundle@1: unpacks an MKE client bundle (never running its env
// files) and points docker, kubectl and helm in later steps at the cluster.
// The core (src/bundle.rs, src/mke_client_bundle.rs) decides; this carries out.
import { startTask, readInputs, setOutputs, uploadSummary, log, tl, core } from '../common/runtime.mjs';
import { extractBundle, removeBundleDirectory } from '../common/bundle.mjs';

// The extracted directory, for this task's post-job step.
const BUNDLE_DIRECTORY = 'MkeClientBundle.bundleDirectory';

async function main(workspace) {
  const settings = core.mkeClientBundleSettings(readInputs());
  // Kept after the step: later steps use it; the post-job step removes it.
  const bundle = extractBundle(workspace, settings.bundle, {
    keep: true, inputName: 'bundle', expiryWarningDays: settings.expiryWarningDays,
  });
  tl.setTaskVariable(BUNDLE_DIRECTORY, bundle.directory);
  const report = core.mkeClientBundleReport({ bundle, exportVariables: settings.exportVariables });
  for (const { name, value } of report.variables) {
    tl.setVariable(name, value);
    log(`${name}=${value}`);
  }
  setOutputs(report.outputs);
  uploadSummary(report.summary);
  log(`Extracted the ${bundle.generation} client bundle to ${bundle.directory}.`);
}

async function postJob() {
  removeBundleDirectory(tl.getTaskVariable(BUNDLE_DIRECTORY));
}

startTask({ main, postJob });
