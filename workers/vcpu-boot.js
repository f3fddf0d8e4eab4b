// A vCPU worker thread's entry: registers tsx in this thread (loaders are per
// thread) so the TypeScript worker below runs without a build step.
import { register } from "tsx/esm/api";

register();
await import("./vcpu.ts");
