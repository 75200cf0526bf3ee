// Validates a speedscope file against the file-format JSON schema that the speedscope npm package ships,
// and prints a summary of each profile: {valid, errors, profiles: [{name, type, unit, samples, weight}]}.
// Usage: node check-speedscope.js FILE
"use strict";
const fs = require("fs");
const Ajv = require("ajv");
const schema = require("speedscope/dist/release/file-format-schema.json");
const data = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
const valid = validate(data);
const profiles = (data.profiles || []).map((p) => ({
  name: p.name,
  type: p.type,
  unit: p.unit,
  samples: p.samples ? p.samples.length : 0,
  weights: p.weights ? p.weights.length : 0,
  weight: p.weights ? p.weights.reduce((a, b) => a + b, 0) : 0,
  maxFrame: p.samples ? Math.max(-1, ...p.samples.map((s) => Math.max(-1, ...s))) : -1,
}));
process.stdout.write(JSON.stringify({ valid, errors: validate.errors || [], schema: data.$schema, frames: data.shared.frames.length, profiles }));
