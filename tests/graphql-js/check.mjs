// Checks a GraphQL schema of cit with graphql-js, the reference implementation, independently of
// the Rust code that produced it. FILE is an introspection result (JSON: the response of the
// standard introspection query, with or without its "data" wrapper) or SDL (.graphql).
//
//   node check.mjs FILE
//   node check.mjs --introspection-query    (prints the query to send, from graphql-js itself)
//
// Builds the schema (buildClientSchema or buildSchema), runs validateSchema, and prints the
// schema back (printSchema) to prove it round-trips. Exits 1 on any error.
import { readFileSync } from "node:fs";
import { buildClientSchema, buildSchema, getIntrospectionQuery, printSchema, validateSchema } from "graphql";

const file = process.argv[2];
if (file === "--introspection-query") {
  process.stdout.write(
    getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    }),
  );
  process.exit(0);
}
if (!file) {
  console.error("usage: node check.mjs FILE (introspection JSON or SDL) | --introspection-query");
  process.exit(2);
}

function fail(message) {
  console.error(`graphql-js: ${file}: ${message}`);
  process.exit(1);
}

let schema;
try {
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".json")) {
    const json = JSON.parse(text);
    if (json.errors && json.errors.length) {
      fail(`the introspection answered errors: ${JSON.stringify(json.errors)}`);
    }
    schema = buildClientSchema(json.data ?? json);
  } else {
    schema = buildSchema(text);
  }
} catch (e) {
  fail(`does not build: ${e.message}`);
}

const errors = validateSchema(schema);
if (errors.length) {
  fail(`invalid schema:\n${errors.map((e) => `  ${e.message}`).join("\n")}`);
}
const printed = printSchema(schema);
const types = Object.keys(schema.getTypeMap()).filter((n) => !n.startsWith("__"));
console.log(`graphql-js: ${file}: valid, ${types.length} types, ${printed.length} characters of SDL`);
