// An assigned NIC's worker thread entry: registers tsx in this thread
// (loaders are per thread) so the TypeScript worker below runs without a build step.
import { register } from "tsx/esm/api";

register();
await import("./assigned-nic.ts");
