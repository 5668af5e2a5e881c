// MsrBuildPush@1: reads the inputs, the build's variables and the Dockerfile,
// runs the build and pushes the core plans, and reports what was pushed.
import fs from 'node:fs';
import { startTask, readInputs, buildInfo, runTool, setOutputs, uploadSummary, tl, core } from '../common/runtime.mjs';

/** A file's text, or null and the error code when it cannot be read (the core says why that matters). */
function readFile(file) {
  try {
    return { text: fs.readFileSync(file, 'utf8'), error: null };
  } catch (error) {
    return { text: null, error: error.code ?? error.message };
  }
}

async function run({ argv, failure }) {
  const result = await runTool(argv);
  if (result.code !== 0) throw new Error(`${failure} with exit code ${result.code}; its output is above.`);
  return result;
}

startTask({
  main: async (workspace) => {
    const inputs = readInputs();
    const variable = (name) => tl.getVariable(name) || null;
    const source = core.msrBuildPushSource({
      inputs,
      sourcesDirectory: variable('Build.SourcesDirectory') ?? process.cwd(),
      dockerConfig: variable('DOCKER_CONFIG'),
    });
    const dockerfile = readFile(source.dockerfile);
    const plan = core.msrBuildPushPlan({
      inputs,
      buildInfo: buildInfo(),
      source,
      dockerfileText: dockerfile.text,
      dockerfileError: dockerfile.error,
      // Names only: the builder reads these values from the environment it inherits.
      environmentBuildArgsSet: source.environmentBuildArgs.filter((name) => process.env[name] !== undefined),
      workDirectory: workspace.directory('msr-build-push'),
      authFileExists: source.authFile ? fs.existsSync(source.authFile) : false,
      sourceDateEpoch: variable('SOURCE_DATE_EPOCH'),
      pipeline: {
        collectionUri: variable('System.TeamFoundationCollectionUri'),
        hostType: variable('System.HostType'),
        teamProject: variable('System.TeamProject'),
        repositoryName: variable('Build.Repository.Name'),
        repositoryUri: variable('Build.Repository.Uri'),
        sourceBranchName: variable('Build.SourceBranchName'),
        sourceVersion: variable('Build.SourceVersion'),
        definitionName: variable('Build.DefinitionName'),
        buildNumber: variable('Build.BuildNumber'),
        buildUri: variable('Build.BuildUri'),
        releaseId: variable('Release.ReleaseId'),
        releaseDefinitionName: variable('Release.DefinitionName'),
        releaseWebUrl: variable('Release.ReleaseWebUrl'),
      },
    });
    for (const warning of plan.warnings) tl.warning(warning);

    await run(plan.build);
    const pushes = [];
    for (const push of plan.pushes) {
      const { stdout } = await run(push.command);
      pushes.push({ stdout, digestFileText: push.digestFile ? readFile(push.digestFile).text : null });
    }

    const finished = core.msrBuildPushFinish({ report: plan.report, pushes });
    for (const warning of finished.warnings) tl.warning(warning);
    setOutputs(finished.outputs);
    uploadSummary(finished.summary);
  },
});
