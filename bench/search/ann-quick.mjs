import hn from 'hnswlib-node';
import us from 'usearch';
const N = +process.argv[2] || 10000, D = 512, Q = 200;
let seed = 1; const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
// clustered data: 100 centres + noise, normalised
const C = Array.from({ length: 100 }, () => Float32Array.from({ length: D }, () => rnd() - 0.5));
function vec() { const c = C[Math.floor(rnd() * 100)]; const v = Float32Array.from(c, (x) => x + (rnd() - 0.5) * 0.8); let s = 0; for (const x of v) s += x * x; s = Math.sqrt(s); for (let i = 0; i < D; i++) v[i] /= s; return v; }
const data = Array.from({ length: N }, vec); const qs = Array.from({ length: Q }, vec);
const exact = qs.map((q) => { const sc = data.map((v, i) => { let s = 0; for (let j = 0; j < D; j++) s += v[j] * q[j]; return [s, i]; }); sc.sort((a, b) => b[0] - a[0]); return new Set(sc.slice(0, 10).map((x) => x[1])); });
let t = performance.now();
const h = new hn.HierarchicalNSW('ip', D); h.initIndex({ maxElements: N, m: 16, efConstruction: 128, allowReplaceDeleted: true });
data.forEach((v, i) => h.addPoint(Array.from(v), i));
console.log('hnswlib build ms', (performance.now() - t).toFixed(0));
for (const ef of [32, 64, 128]) { h.setEf(ef); t = performance.now(); let rec = 0; for (let r = 0; r < 3; r++) qs.forEach((q, i) => { const res = h.searchKnn(Array.from(q), 10); rec += res.neighbors.filter((x) => exact[i].has(x)).length / 10; }); const dt = performance.now() - t; console.log('hnswlib ef', ef, 'qps', (3 * Q / dt * 1000).toFixed(0), 'recall', (rec / Q / 3).toFixed(3)); }
t = performance.now();
const u = new us.Index({ dimensions: D, metric: 'ip', quantization: 'f32', connectivity: 16, expansion_add: 128, expansion_search: 64, multi: false });
const flat = new Float32Array(N * D); data.forEach((v, i) => flat.set(v, i * D)); const keys = BigUint64Array.from({ length: N }, (_, i) => BigInt(i));
u.add(keys, flat, 1);
console.log('usearch build ms (1 thread)', (performance.now() - t).toFixed(0));
t = performance.now(); let rec = 0; for (let r = 0; r < 3; r++) qs.forEach((q, i) => { const res = u.search(q, 10, 1); rec += Array.from(res.keys).filter((x) => exact[i].has(Number(x))).length / 10; }); const dt = performance.now() - t; console.log('usearch es64 qps', (3 * Q / dt * 1000).toFixed(0), 'recall', (rec / Q / 3).toFixed(3));
