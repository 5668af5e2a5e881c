// Imported before the core's glue compiles its .wasm. V8 tiers hot wasm
// functions up with TurboFan on background threads and the process waits for
// those compiles before it exits: measured ~80 ms for a client bundle, far more
// than the work itself. Baseline (Liftoff) code is fast enough for these tasks.
import v8 from 'node:v8';

v8.setFlagsFromString('--liftoff-only');
