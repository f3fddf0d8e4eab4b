// A test's worker thread: registers tsx in this thread (loaders are per
// thread), then runs the TypeScript module named in workerData.entry.
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);
