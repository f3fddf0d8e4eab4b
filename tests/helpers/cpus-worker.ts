// A worker thread for tests/host/affinity.test.ts: reports the cores it
// started with (inherited from the thread that made it), then those it has
// after unpinInherited.
import { parentPort } from "node:worker_threads";
import { threadCpus, unpinInherited } from "../../src/host/affinity.ts";

const inherited = threadCpus();
unpinInherited();
parentPort?.postMessage({ inherited, after: threadCpus() });
