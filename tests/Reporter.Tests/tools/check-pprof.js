// Decodes a gzip-compressed pprof profile with the pprof-format package (an independent decoder) and prints
// its totals per sample type and the label keys it saw: {sampleTypes, totals, samples, labelKeys, ...}.
// Usage: node check-pprof.js FILE
"use strict";
const fs = require("fs");
const zlib = require("zlib");
const { Profile } = require("pprof-format");
const raw = fs.readFileSync(process.argv[2]);
if (raw[0] !== 0x1f || raw[1] !== 0x8b) throw new Error("not gzip-compressed");
const p = Profile.decode(zlib.gunzipSync(raw));
const str = (i) => p.stringTable.strings[Number(i)];
const totals = p.sampleType.map(() => 0);
const labelKeys = new Set();
const byDomain = {};
for (const s of p.sample) {
  s.value.forEach((v, i) => (totals[i] += Number(v)));
  for (const l of s.label) labelKeys.add(str(l.key));
  const d = s.label.find((l) => str(l.key) === "domain");
  if (d) byDomain[Number(d.num)] = (byDomain[Number(d.num)] || 0) + Number(s.value[0]);
}
const locIds = new Set(p.location.map((l) => Number(l.id)));
const fnIds = new Set(p.function.map((f) => Number(f.id)));
const mapIds = new Set(p.mapping.map((m) => Number(m.id)));
const dangling =
  p.sample.some((s) => s.locationId.some((id) => !locIds.has(Number(id)))) ||
  p.location.some((l) => !mapIds.has(Number(l.mappingId)) || l.line.some((ln) => !fnIds.has(Number(ln.functionId))));
process.stdout.write(JSON.stringify({
  firstString: str(0),
  sampleTypes: p.sampleType.map((t) => str(t.type) + "/" + str(t.unit)),
  periodType: p.periodType ? str(p.periodType.type) + "/" + str(p.periodType.unit) : null,
  period: Number(p.period),
  durationNanos: Number(p.durationNanos),
  totals,
  samples: p.sample.length,
  labelKeys: [...labelKeys].sort(),
  byDomain,
  mappings: p.mapping.map((m) => ({ file: str(m.filename), buildId: str(m.buildId), start: Number(m.memoryStart), limit: Number(m.memoryLimit) })),
  functions: p.function.map((f) => str(f.name)),
  dangling,
}));
