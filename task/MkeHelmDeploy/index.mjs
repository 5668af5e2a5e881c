import { startTask, readInputs, core } from '../common/runtime.mjs';

startTask({
  main: async () => {
    core.checkRequiredInputs({ inputs: readInputs(), required: ["releaseName","chart"] });
    throw new Error('MkeHelmDeploy is not implemented yet.');
  },
  postJob: async () => {},
});
