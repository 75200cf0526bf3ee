// Validates a JSON file against a JSON schema with ajv and prints {valid, errors}.
// Usage: node check-schema.js SCHEMA FILE
"use strict";
const fs = require("fs");
const Ajv = require("ajv");
const schema = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const data = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
const valid = validate(data);
process.stdout.write(JSON.stringify({ valid, errors: (validate.errors || []).slice(0, 20) }));
