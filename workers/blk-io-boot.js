// A block I/O worker's entry (piscina loads it): registers tsx in this thread
// (loaders are per thread), then serves src/devices/virtio/blk-io.ts.
import { register } from "tsx/esm/api";

register();
const io = await import("../src/devices/virtio/blk-io.ts");
export default io.default;
