import { startTask, readInputs, core } from '../common/runtime.mjs';

startTask({
  main: async () => {
    core.checkRequiredInputs({ inputs: readInputs(), required: ["bundle"] });
    throw new Error('MkeClientBundle is not implemented yet.');
  },
  postJob: async () => {},
});
