import { readFileSync } from "node:fs";
import { dirname, resolve, relative } from "node:path";
const root = resolve("dist/src/cli/run.js");
const seen = new Set(); const order = [];
function visit(f) {
  if (seen.has(f)) return; seen.add(f);
  const s = readFileSync(f, "utf8");
  for (const m of s.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|^import\s+"(\.[^"]+)"/gms)) visit(resolve(dirname(f), m[1] ?? m[2]));
  order.push(f);
}
visit(root);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const out = []; let t = cpu(); let tot = 0;
for (const f of order) { await import(f); const n = cpu(); out.push([n - t, relative("dist", f)]); tot += n - t; t = n; }
out.sort((a, b) => b[0] - a[0]);
console.log("modules", order.length, "total", tot.toFixed(1));
console.log(out.slice(0, +process.argv[2] || 20).map(([d, c]) => d.toFixed(2) + " " + c).join("\n"));
