import { startTask, readInputs, core } from '../common/runtime.mjs';

startTask({
  main: async () => {
    core.checkRequiredInputs({ inputs: readInputs(), required: ['registry'] });
    throw new Error('MsrLogin is not implemented yet.');
  },
  postJob: async () => {},
});
