// A `popek exp --parallel` pool worker's entry (piscina loads it): registers tsx in this
// thread (loaders are per thread), then serves src/cli/exp-worker.ts.
import { register } from "tsx/esm/api";

register();
const worker = await import("../src/cli/exp-worker.ts");
export default worker.default;
