import { startTask, readInputs, core } from '../common/runtime.mjs';

startTask({
  main: async () => {
    core.checkRequiredInputs({ inputs: readInputs(), required: ["repository"] });
    throw new Error('MsrBuildPush is not implemented yet.');
  },
  postJob: async () => {},
});
